"""A year of the hall's history, made up and written straight into the tables (bulk inserts):
what the statistics, the lists and the case pages show in a demo, and what the benchmark
measures them with. Deterministic from a seed.

Every case made is over (办结, 不予受理 or 撤回) and went the way its diagram goes: its
`visited` elements, its completed tasks (worked by the demo staff of their groups), its start
and end in the history, its pauses, ratings and accountability records; it opens on its page
like a case that ran. Nothing of a workflow's state is kept for a case that is over, so none
is made. The hall's feedback loops are there too: each 差评 with its 差评整改 case, the year's
意见建议 and 投诉 with their complaint cases, and the rounds of 回访 with a visit case for each
enterprise. The processes and the catalogue must be there first (`flask demo`).

Fast enough for every fresh demo (a year of 32,000 cases in a few seconds): times are counted
as working seconds from the year's first working day (`_Hours`: the calendar is asked once per
day, not per moment), rows are plain dicts written by the driver's executemany in large
batches, in the order of time, so the tables' time indexes grow at their end."""

from __future__ import annotations

import bisect
import datetime as dt
import math
import random
from collections.abc import Callable
from dataclasses import dataclass
from operator import itemgetter
from types import SimpleNamespace

import sqlalchemy as sa

from engine import calendar, catalogue, clock, complaints, ratings, visits
from engine.db import json_dumps
from engine.errors import Conflict, Invalid, NotFound
from engine.models import (
    Accountability,
    Case,
    CaseCounter,
    CatalogueItem,
    Complaint,
    Consultation,
    Enterprise,
    Event,
    Pause,
    Rating,
    RatingStaff,
    Task,
    User,
    Visit,
    VisitRound,
    user_groups,
)
from engine.portal import window_group

MAX_CASES = 2_000_000  # one run's bound: what a year's history may hold
WINDOWS = {"domestic": "内资窗口", "foreign": "外资窗口", "construction": "建设窗口", "social": "社会事务窗口"}
REVIEWS = {"工商": "review_gongshang", "国税": "review_guoshui", "地税": "review_dishui", "质监": "review_zhijian",
           "公安": "review_gongan"}
# lanes no demo account belongs to: who works their tasks
STAFFED_BY = {"部门首席代表": ["工商", "国税", "地税", "质监"], "审批部门": ["工商", "国税", "地税", "质监"],
              "牵头窗口": ["内资窗口"], "申请人": ["管理办"], "责任部门": ["内资窗口"]}
QUESTIONS = ["需要提交哪些材料？", "可以网上办理吗？", "办理时限是多久？", "住所使用证明可以用租赁合同吗？",
             "是否收费？", "法定代表人不能到场怎么办？", "外资企业设立需要先审批吗？", "营业执照什么时候可以领取？"]
PAUSES = [("补正", 0.06), ("听证", 0.002), ("检验检测", 0.004), ("鉴定", 0.002), ("专家评审", 0.002)]
NAMES = "闽江 榕城 海峡 鼓楼 仓山 晋安 马尾 长乐 闽侯 连江 罗源 永泰 平潭 福清 台江 五四 东街 南门 西湖 左海".split()
TRADES = "数字科技 智能制造 文化传媒 食品 贸易 餐饮 物流 建材 医疗器械 新能源 软件 咨询 教育科技 旅游 纺织".split()
REMARKS = [("suggestion", "建议增加自助填表机", "大厅自助填表机偏少，高峰时需排队。"),
           ("suggestion", "建议延长午间服务", "希望午休时间安排窗口值班。"),
           ("complaint", "窗口答复不一致", "两次咨询同一事项，窗口答复的材料要求不一致。"),
           ("complaint", "等候时间过长", "上午排队等候超过一小时。"),
           ("suggestion", "建议网上预审结果短信通知", "预审通过后希望能收到短信提醒。")]
PROCESSES = ("parallel_approval", "green_channel", "joint_review", "big_project", "enterprise_exit",
             ratings.RECTIFICATION, complaints.PROCESS, visits.PROCESS)
BATCH = 20_000  # rows of a table written at once


@dataclass(frozen=True)
class Plan:
    """What a year holds. `cases`: accepted (受理) cases in all, the special ones included;
    `capital`: registered capital of the new enterprises in all, 万元; `visited`: enterprises
    reached at a 回访 and `unreached` those that could not be; `complaints`: 意见建议 and 投诉."""

    year: int
    cases: int = 32_000
    consultations: int = 84_000
    domestic: int = 1_800
    foreign: int = 90
    capital: float = 400_000.0
    agency: int = 280
    big_projects: int = 50
    exits: int = 15
    joint_reviews: int = 60
    seed: int = 2026
    visited: int = 700
    unreached: int = 3
    complaints: int = 24

    @classmethod
    def share(cls, year: int, share: float, seed: int = 2026) -> Plan:
        """`share` of the seed hall's year (1: the year its report tells of), for `year`."""
        if not 0 < share <= 10:
            raise Invalid("share must be more than 0, at most 10", {"share": ["more than 0, at most 10"]})
        whole = cls(year)
        counts = {f: round(getattr(whole, f) * share) for f in (
            "cases", "consultations", "domestic", "foreign", "agency", "big_projects", "exits", "joint_reviews",
            "visited", "unreached", "complaints")}
        special = sum(counts[f] for f in ("domestic", "foreign", "agency", "big_projects", "exits", "joint_reviews"))
        counts["cases"] = max(counts["cases"], special)
        reached = counts["visited"] + counts["unreached"]
        if reached > 4 * visits.MAX_VISITS:  # a 回访 round holds so many: a large hall samples
            counts["visited"] = counts["visited"] * 4 * visits.MAX_VISITS // reached
            counts["unreached"] = 4 * visits.MAX_VISITS - counts["visited"]
        return cls(year, capital=round(whole.capital * share, 2), seed=seed, **counts)

    def check(self) -> None:
        special = self.domestic + self.foreign + self.agency + self.big_projects + self.exits + self.joint_reviews
        for name in ("cases", "consultations", "domestic", "foreign", "agency", "big_projects", "exits",
                     "joint_reviews", "visited", "unreached", "complaints"):
            value = getattr(self, name)
            if not 0 <= value <= MAX_CASES:
                raise Invalid(f"{name} must be 0 to {MAX_CASES:,}", {name: [f"0 to {MAX_CASES:,}"]})
        if self.cases < special:
            raise Invalid(f"cases ({self.cases}) must be at least the special cases together ({special})",
                          {"cases": [f"at least {special}"]})
        if self.visited + self.unreached > 4 * visits.MAX_VISITS:
            raise Invalid(f"visits: at most {visits.MAX_VISITS} a quarter",
                          {"visited": [f"visited and unreached at most {4 * visits.MAX_VISITS}"]})
        if not clock.FIRST_DAY.year < self.year < clock.LAST_DAY.year:
            raise Invalid("year out of range", {"year": ["out of range"]})
        if not 0 <= self.capital <= 1e12:
            raise Invalid("capital out of range", {"capital": ["0 to 10^12"]})


def generate(h, plan: Plan, write: Callable[[str, list[dict]], None] | None = None, echo=lambda s: None) -> dict:
    """Write the plan's year into the hall's database; returns how many rows of each table.
    `write(table, rows)` inserts rows (default: the driver's executemany on the hall's
    session, one transaction). Refused when the hall already has cases received in that year."""
    plan.check()
    maker = _Maker(h, plan)
    s = h.session
    if s.scalar(sa.select(sa.func.count()).select_from(Case).where(Case.created_at >= maker.since,
                                                                   Case.created_at < maker.until)):
        raise Conflict(f"the hall already has cases received in {plan.year}: history is only made for an empty year")
    h.statistics.forget(plan.year)
    own = write is None
    if own:
        write = _writer(s)
    counts: dict[str, int] = {}

    def flush(force: bool = False) -> None:
        if not force and max(len(rows) for rows in maker.rows.values()) < BATCH:
            return
        for table in _ORDER:
            rows = maker.rows[table]
            if rows:
                write(table, rows)
                counts[table] = counts.get(table, 0) + len(rows)
                maker.rows[table] = []

    try:
        maker.enterprises()
        for at, kind in maker.kinds():
            maker.case(at, kind)
            flush()
        maker.complaints()
        maker.visits()
        maker.consultations(flush)
        maker.counters()
        flush(True)
        if own:
            _advance_sequences(s)
            s.commit()
    except BaseException:
        if own:
            s.rollback()
        raise
    echo(f"history {plan.year}: " + ", ".join(f"{n:,} {t}" for t, n in counts.items()))
    return counts


_TABLES = {t.__tablename__: t.__table__ for t in (Enterprise, Case, Task, Event, Pause, Accountability, Rating,
                                                  Consultation, CaseCounter, Complaint, VisitRound, Visit)}
_TABLES["rating_staff"] = RatingStaff.__table__
_ORDER = ["enterprises", "cases", "tasks", "events", "pauses", "accountability", "ratings", "rating_staff",
          "complaints", "visit_rounds", "visits", "consultations", "case_counters"]
_OWN_IDS = ("enterprises", "cases", "ratings", "complaints", "visit_rounds")
_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


def _writer(s) -> Callable[[str, list[dict]], None]:
    """Rows into a table: on SQLite the driver's executemany with the values as SQLAlchemy
    stores them (the maker writes times as UTC text already, JSON is made text here); on
    PostgreSQL SQLAlchemy Core's executemany."""
    if s.get_bind().dialect.name != "sqlite":
        return lambda table, rows: s.execute(sa.insert(_TABLES[table]), rows)
    cursor = s.connection().connection.driver_connection.cursor()
    statements = {}

    def write(table: str, rows: list[dict]) -> None:
        columns = tuple(rows[0])
        key = (table, columns)
        if key not in statements:
            json = [i for i, c in enumerate(columns) if isinstance(_TABLES[table].c[c].type, sa.JSON)]
            statements[key] = (f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})",
                               itemgetter(*columns), json)
        sql, values, json = statements[key]
        if not json:
            cursor.executemany(sql, [values(r) if len(columns) > 1 else (values(r),) for r in rows])
            return

        def row(r):
            out = list(values(r))
            for i in json:
                if out[i] is not None:
                    out[i] = json_dumps(out[i])
            return out

        cursor.executemany(sql, map(row, rows))

    return write


def _advance_sequences(s) -> None:
    """On PostgreSQL the ids written here leave the tables' sequences behind: move them on."""
    if s.get_bind().dialect.name != "postgresql":
        return
    for table in _OWN_IDS:
        s.execute(sa.text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                          f"(SELECT coalesce(max(id), 1) FROM {table}))"))


class _Hours:
    """Working time as one number W: seconds of office hours since the opening of the first
    working day counted (`first`). Every moment the history makes lies in office hours, so
    moving a moment on by working time is an addition, N working days later is a multiple of
    the working day, and the calendar is asked once per day. `epoch(W)` is the moment itself."""

    def __init__(self, cal: calendar.Calendar, first: dt.date, last: dt.date):
        self.ds = cal.day_seconds
        self.dates: list[dt.date] = []
        self.midnight: list[float] = []  # seconds since 1970 of each working day's midnight
        self.index: dict[dt.date, int] = {}
        day = first
        while day <= last:
            if cal.is_workday(day):
                self.index[day] = len(self.dates)
                self.dates.append(day)
                self.midnight.append(dt.datetime.combine(day, dt.time(), clock.HALL_TZ).timestamp())
            day += dt.timedelta(days=1)
        self.spans = []  # each period of office hours: W from the day's opening where it starts, ends; its clock
        w = 0.0
        for start, end in cal.periods:
            length = calendar._seconds(start, end)
            self.spans.append((w, w + length, start.hour * 3600 + start.minute * 60 + start.second))
            w += length

    def day(self, w: float) -> int:
        """The working day (its index) of W; a closing instant belongs to the day it closes."""
        i = int(w // self.ds)
        return i - 1 if i > 0 and w == i * self.ds else i

    def epoch(self, w: float) -> float:
        i = self.day(w)
        r = w - i * self.ds
        for w0, w1, clock_at in self.spans:
            if r <= w1:
                return self.midnight[i] + clock_at + (r - w0)
        raise ValueError(w)

    def stored(self, out: Callable[[float], object]) -> Callable[[float], object]:
        """`epoch` and then `out`, in one call (made for each of a year's times)."""
        ds, spans, midnight = self.ds, self.spans, self.midnight

        def at(w: float):
            i = int(w // ds)
            if i and w == i * ds:
                i -= 1
            r = w - i * ds
            for w0, w1, clock_at in spans:
                if r <= w1:
                    return out(midnight[i] + clock_at + (r - w0))
            raise ValueError(w)

        return at

    def at(self, i: int, share: float) -> float:
        """A moment `share` of the way through working day i (a minute clear of its edges)."""
        return i * self.ds + 60 + share * (self.ds - 120)

    def close(self, w: float, n: int) -> float:
        """The close of office hours on the n-th working day after W's day (the calendar's
        add_workdays: 0 is the same day's close)."""
        return (self.day(w) + n + 1) * self.ds

    def between(self, a: float, b: float) -> int:
        """Working days after a's day up to b's (the calendar's workdays_between)."""
        return max(0, self.day(b) - self.day(a))


def _utc_text(epoch: float, _dates: dict[int, str] = {}) -> str:  # noqa: B006 (the days' text, kept)
    """A moment as SQLAlchemy stores it on SQLite: UTC, '%Y-%m-%d %H:%M:%S.%f'."""
    us = round(epoch * 1_000_000)
    days, us = divmod(us, 86_400_000_000)
    date = _dates.get(days)
    if date is None:
        date = _dates[days] = (_EPOCH + dt.timedelta(days=days)).date().isoformat()
    s, us = divmod(us, 1_000_000)
    return f"{date} {s // 3600:02d}:{s // 60 % 60:02d}:{s % 60:02d}.{us:06d}"


def _utc(epoch: float) -> dt.datetime:
    return _EPOCH + dt.timedelta(microseconds=round(epoch * 1_000_000))


class _Maker:
    def __init__(self, h, plan: Plan):
        self.h, self.plan = h, plan
        self.rnd = random.Random(plan.seed)
        self.cal = calendar.current()
        self.since = dt.datetime(plan.year, 1, 1, tzinfo=clock.HALL_TZ).astimezone(dt.UTC)
        self.until = dt.datetime(plan.year + 1, 1, 1, tzinfo=clock.HALL_TZ).astimezone(dt.UTC)
        # the year, and the next for the limits that run into it
        self.hours = _Hours(self.cal, dt.date(plan.year, 1, 1), dt.date(plan.year + 1, 12, 31))
        self.workdays = sum(d.year == plan.year for d in self.hours.dates)  # the year's: 0 .. workdays - 1
        self.last = self.workdays * self.hours.ds - 60  # the year's last working minute: everything ends before
        s = h.session
        sqlite = s.get_bind().dialect.name == "sqlite"
        self.out = _utc_text if sqlite else _utc
        self.date = dt.date.isoformat if sqlite else (lambda day: day)
        self.t = self.hours.stored(_utc_text if sqlite else _utc)  # W as the database stores a time
        self.versions = {}
        for process_id in PROCESSES:
            pv = h.repository.latest(process_id, required=False)
            if pv is None:
                raise NotFound(f"no process '{process_id}': deploy the hall's processes first (flask demo)")
            bundle = h.repository.bundle(pv.id)
            self.versions[process_id] = SimpleNamespace(id=pv.id, version=pv.version, prefix=pv.case_prefix,
                                                        names=bundle.element_names, bundle=bundle)
        self.items = {}
        for code in ("NZ-001", "WZ-001", "SW-001", "GA-001", "YH-001", "GS-002", "SW-002", "LS-001", "XM-001",
                     "QC-001", "HS-001"):
            item = s.scalar(sa.select(CatalogueItem).where(CatalogueItem.code == code)
                            .order_by(CatalogueItem.version.desc()).limit(1))
            if item is None:
                raise NotFound(f"no item '{code}' in the catalogue: load it first (flask demo)")
            self.items[code] = SimpleNamespace(id=item.id, code=code, name=item.name, category=item.category,
                                               kind=item.kind, online=item.online, promised_days=item.promised_days,
                                               version=item.version, departments=list(item.departments),
                                               terms=catalogue.case_terms(item))
        members: dict[str, list[tuple[int, str]]] = {}
        for uid, username, group, roles in s.execute(
                sa.select(User.id, User.username, user_groups.c.group_name, User.roles)
                .join(user_groups, user_groups.c.user_id == User.id).where(User.active.is_(True)).order_by(User.id)):
            if not {"device", "integrator"} & set(roles.split(",")):  # a window's 评价器 works no task
                members.setdefault(group, []).append((uid, username))
        self.members = members
        applicants = members.get("申请人") or [(uid, n) for uid, n in s.execute(sa.select(User.id, User.username)
                                                                           .order_by(User.id).limit(1))]
        if not applicants:
            raise NotFound("no users: create the demo users first (flask demo)")
        self.applicants = applicants
        self.next_id = {t: (s.scalar(sa.select(sa.func.max(_TABLES[t].c.id))) or 0) + 1 for t in _OWN_IDS}
        self.numbers: dict[tuple[str, str], int] = {}
        self.rows: dict[str, list[dict]] = {t: [] for t in _ORDER}
        self.pool: list[tuple[int, str, str]] = []  # (id, credit code, name) of the enterprises there before
        self.specs: dict = {}
        self.new_enterprises: list[tuple[int, str, str, float]] = []
        self.enterprise_names: dict[int, str] = {}
        self.served: list[tuple[float, int, int, str]] = []  # cases done for an enterprise: (W, case, it, window)
        self.tasks = 0
        self.people: dict[tuple, list[tuple[int | None, str]]] = {}

    # --- helpers -------------------------------------------------------------------------
    def _id(self, table: str) -> int:
        value = self.next_id[table]
        self.next_id[table] += 1
        return value

    def _staff(self, groups: list[str]) -> tuple[int | None, str]:
        key = tuple(groups)
        people = self.people.get(key)
        if people is None:
            people = self.people[key] = next((self.members[g2] for g in groups for g2 in [g, *STAFFED_BY.get(g, [])]
                                              if self.members.get(g2)), [(None, "system")])
        return self.rnd.choice(people)


    def _day(self, tail: int = 0) -> int:
        """A working day of the year, at least `tail` working days before its end."""
        return self.rnd.randrange(max(1, self.workdays - tail))

    def _after(self, w: float, workdays: float) -> float:
        return w + workdays * self.hours.ds

    def _name(self) -> str:
        return f"{self.rnd.choice(NAMES)}{self.rnd.choice(TRADES)}有限公司"

    def _credit(self, n: int) -> str:
        return f"91350{self.plan.year % 100:02d}SY{self.plan.seed % 1000:03d}{n:06d}"

    # --- what is made --------------------------------------------------------------------
    def enterprises(self) -> None:
        """The year's new enterprises (one per 设立登记 case) and a pool of existing ones the
        other cases are for; each is an account of 企业之家 from its first filing."""
        p, rnd = self.plan, self.rnd
        weights = [rnd.lognormvariate(0, 1) for _ in range(p.domestic + p.foreign)]
        scale = p.capital / sum(weights) if weights else 0
        capital = [round(w * scale, 2) for w in weights]
        if capital:  # the total exactly, whatever the rounding
            capital[-1] = round(p.capital - sum(capital[:-1]), 2)
        pool_size = max(50, p.cases // 10)
        for n in range(p.domestic + p.foreign + pool_size):
            eid = self._id("enterprises")
            name = self._name()
            self.enterprise_names[eid] = name
            self.rows["enterprises"].append({"id": eid, "credit_code": self._credit(n), "name": name,
                                             "contact_name": None, "phone": None,
                                             "created_at": self.t(self.hours.at(self._day(), rnd.random()))})
            if n < p.domestic + p.foreign:
                self.new_enterprises.append((eid, self._credit(n), name, capital[n]))
            else:
                self.pool.append((eid, self._credit(n), name))

    def kinds(self) -> list[tuple[float, tuple[str, int]]]:
        """What each case is and when it is received, in the order of time: the special ones,
        the rest of the plan's accepted cases (承诺件 and 即办件), and the cases never accepted
        (不予受理, 撤回) on top. Late enough in the year that each ends within it."""
        p, rnd = self.plan, self.rnd
        kinds = ([("establish", n) for n in range(p.domestic + p.foreign)] + [("agency", 0)] * p.agency
                 + [("big", 0)] * p.big_projects + [("exit", 0)] * p.exits + [("joint", 0)] * p.joint_reviews)
        rest = p.cases - len(kinds)
        promised = int(rest * 0.42)
        kinds += [("promised", 0)] * promised + [("immediate", 0)] * (rest - promised)
        kinds += [("not_accepted", 0)] * (p.cases // 120) + [("withdrawn", 0)] * (p.cases // 70)
        timed = [(self.hours.at(self._day(3 if what in ("immediate", "not_accepted", "withdrawn") else 30),
                                rnd.random() * 0.85), (what, n)) for what, n in kinds]
        timed.sort(key=itemgetter(0))
        return timed

    def case(self, received: float, kind: tuple[str, int]) -> None:
        what, n = kind
        if what in ("establish", "promised", "immediate", "not_accepted", "withdrawn"):
            self._parallel(what, n, received)
        elif what == "agency":
            self._agency(received)
        elif what == "big":
            self._big(received)
        elif what == "exit":
            self._exit(received)
        else:
            self._joint(received)

    def _new_case(self, process_id: str, item, received: float, data: dict, title: str,
                  started_by: tuple[int | None, str], enterprise_id: int | None, channel: str) -> dict:
        pv = self.versions[process_id]
        day = self.hours.dates[self.hours.day(received)].strftime("%Y%m%d")
        seq = self.numbers[(pv.prefix, day)] = self.numbers.get((pv.prefix, day), 0) + 1
        at = self.t(received)
        case = {
            "id": self._id("cases"), "number": f"{pv.prefix}-{day}-{seq:05d}", "process_id": process_id,
            "version_id": pv.id, "version": pv.version, "status": "completed", "title": title[:256],
            "started_by_id": started_by[0], "created_at": at, "updated_at": at, "ended_at": None,
            "revision": 1, "state": b"", "data": data, "next_timer_at": None, "error": None, "visited": [],
            "due_at": None, "paused_since": None, "paused_reason": None, "paused_element": None,
            "calendar_revision": calendar.revision(), "due_note": None, "waiting": [],
            "item_id": item.id if item is not None else None, "channel": channel, "enterprise_id": enterprise_id,
            "rate_invite_at": None, "accepted_at": None, "end_element": None, "workdays_taken": None,
        }
        self.rows["cases"].append(case)
        self._event(case, started_by[1], "started", None, at,
                    {"version": pv.version, "channel": channel, **({"item": item.code, "item_version": item.version}
                                                                   if item is not None else {})})
        return case

    def _event(self, case: dict, actor: str, action: str, element: str | None, at, detail=None):
        self.rows["events"].append({"case_id": case["id"], "task_id": None, "process_id": case["process_id"],
                                    "at": at, "actor": actor, "action": action, "element_id": element,
                                    "detail": detail})

    def _task(self, case: dict, element: str, created: float, done: float, due_days: int | None,
              groups: list[str] | None = None, staff: tuple[int | None, str] | None = None) -> tuple:
        key = (case["process_id"], element)
        made = self.specs.get(key)
        if made is None:  # what every task of this element has alike
            pv = self.versions[case["process_id"]]
            spec = _spec(pv.bundle, element)
            lane = spec.lane if spec is not None else None
            made = self.specs[key] = (lane, {
                "process_id": case["process_id"], "element_id": element,
                "name": (pv.names.get(element) or element)[:256], "lane": lane, "status": "completed",
                "form_key": None, "data": None, "context": None, "warning": "none", "escalation": 0,
                "next_alert_at": None, "due_note": None})
        lane, alike = made
        groups = groups or ([lane] if lane else [])
        worker = staff or self._staff(groups)
        due = self.hours.close(created, due_days) if due_days is not None else None
        self.tasks += 1
        created_at = self.t(created)
        self.rows["tasks"].append({
            **alike, "case_id": case["id"], "spiff_id": f"{case['id']:012x}-{self.tasks:023x}"[:36],
            "case_number": case["number"], "case_title": case["title"], "candidate_groups": groups,
            "assignee_id": worker[0], "created_at": created_at, "due_at": self.t(due) if due is not None else None,
            "claimed_at": created_at if worker[0] else None, "completed_at": self.t(done),
            "completed_by_id": worker[0]})
        if due is not None and done > due:
            self.rows["accountability"].append({
                "case_id": case["id"], "task_id": None, "kind": "late", "department": "、".join(groups) or None,
                "person": worker[1], "days_over": float(max(1, self.hours.between(due, done))), "reason": None,
                "granted_by": None, "days_granted": None, "at": self.t(done)})
        return worker

    def _end(self, case: dict, w: float, end: str | None, status: str = "completed") -> None:
        at = self.t(w)
        case["status"], case["ended_at"], case["updated_at"], case["end_element"] = status, at, at, end
        accepted = case.pop("_accepted", None)
        if status == "completed" and accepted is not None:
            case["workdays_taken"] = round((w - accepted) / self.hours.ds, 3)
        names = self.versions[case["process_id"]].names
        self._event(case, "system", "ended" if status == "completed" else status, end, at,
                    {"name": names.get(end)} if end and status == "completed" else None)

    def _accept(self, case: dict, w: float) -> None:
        case["_accepted"] = w
        case["accepted_at"] = self.t(w)

    def _rate(self, case: dict, done: float, window: str | None, staff: list[int | None]) -> None:
        rnd = self.rnd
        if rnd.random() > 0.93:
            return
        roll = rnd.random()
        level = rnd.choice((1, 2)) if roll < 0.001 else 5 if roll < 0.80 else 4 if roll < 0.975 else 3
        rid = self._id("ratings")
        at = self.hours.epoch(done) + 60 * rnd.randint(1, 600)
        rating = {"id": rid, "case_id": case["id"], "stage": "completed", "level": level, "dimensions": None,
                  "comment": None, "channel": rnd.choice(("device", "portal", "counter")), "recorded_by_id": None,
                  "at": self.out(at), "item_id": case["item_id"], "window": window, "rectification_case_id": None}
        if level <= 2:
            rating["comment"] = "办理过程中等候时间较长"
            rating["rectification_case_id"] = self._rectification(case, done, rid, level, window)
        self.rows["ratings"].append(rating)
        for uid in dict.fromkeys(u for u in staff if u is not None):
            self.rows["rating_staff"].append({"rating_id": rid, "user_id": uid})

    def _rectification(self, rated: dict, done: float, rating_id: int, level: int, window: str | None) -> int:
        """A 差评's 差评整改 (engine.ratings): verified with the rater, rectified, reviewed by
        管理办, the rater told the result; done within the year."""
        rnd = self.rnd
        window = window or ratings.RECTIFIER
        start = min(self._after(done, rnd.uniform(0.2, 1)), self.last - self.hours.ds)
        data = {"rating": {"id": rating_id, "case_id": rated["id"], "case_number": rated["number"],
                           "case_title": rated["title"], "level": level, "label": ratings.LEVELS[level],
                           "comment": "办理过程中等候时间较长"},
                "window": window, "verification": "founded", "rectification": "已对窗口人员开展服务规范培训",
                "review": "passed", "report": "已电话告知评价人整改结果"}
        case = self._new_case(ratings.RECTIFICATION, None, start, data, rated["number"], (None, "system"),
                              rated["enterprise_id"], "online")
        self._accept(case, start)
        span = min(rnd.uniform(2, 8), (self.last - start) / self.hours.ds)
        at = start
        for element, share, due, groups in (("verify", 0.1, 1, [window]), ("rectify", 0.7, 15, [window]),
                                            ("review", 0.1, 2, None), ("report_back", 0.1, 1, [window])):
            finished = self._after(at, span * share)
            self._task(case, element, at, finished, due, groups)
            at = finished
        case["visited"] = ["start_poor_rating", "verify", "verified", "rectify", "review", "reviewed", "report_back",
                           "end_reported"]
        self._end(case, at, "end_reported")
        return case["id"]

    def _pause(self, case: dict, reason: str, element: str | None, start: float, end: float, by: str) -> None:
        self.rows["pauses"].append({
            "case_id": case["id"], "reason": reason, "element_id": element, "started_at": self.t(start),
            "started_by": by, "ended_at": self.t(end), "ended_by": by, "working_seconds": end - start,
            "workdays": self.hours.between(start, end)})

    # --- the processes -------------------------------------------------------------------
    def _parallel(self, what: str, n: int, received: float) -> None:
        rnd, p = self.rnd, self.plan
        if what == "establish":
            code = "NZ-001" if n < p.domestic else "WZ-001"
            eid, credit, name, capital = self.new_enterprises[n]
        else:
            code = rnd.choice(("GA-001", "YH-001", "GS-002", "SW-002")) if what == "immediate" else \
                rnd.choice(("SW-001", "SW-001", "SW-001", "NZ-001", "WZ-001")) if what != "promised" else "SW-001"
            eid, credit, name = rnd.choice(self.pool)
            capital = round(rnd.uniform(10, 2000), 2)
        item = self.items[code]
        window = WINDOWS[item.category]
        online = item.online and rnd.random() < 0.7
        started_by = rnd.choice(self.applicants) if online else self._staff([window])
        data = {"enterprise": {"name": name, "credit_code": credit, "registered_capital": capital,
                               "category": catalogue.CATEGORIES.get(item.category, "内资")},
                "item": item.terms, "channel": "online" if online else "counter"}
        case = self._new_case("parallel_approval", item, received, data, name, started_by, eid,
                              "online" if online else "counter")
        visited = ["start_application", "check_channel"]
        at = received
        if online:
            done = self._after(at, rnd.uniform(0.05, 0.6))
            self._task(case, "online_prereview", at, done, 1)
            visited += ["online_prereview", "prereview_decision"]
            at = done
        if what == "withdrawn":
            case["visited"] = [*visited, "route_by_category"]
            self._end(case, self._after(at, rnd.uniform(0.1, 2)), None, "withdrawn")
            return
        suffix = item.category
        visited += ["route_by_category", f"accept_{suffix}", "merge_acceptance", "acceptance_decision"]
        accept_done = self._after(at, rnd.uniform(0.02, 0.4))
        reason = next((r for r, share in PAUSES[:1] if rnd.random() < share), None) if what != "immediate" else None
        if reason:  # 补正: the clock stands while the applicant brings what is missing
            asked = accept_done
            back = self._after(asked, rnd.uniform(0.5, 4))
            self._pause(case, reason, "wait_supplement", asked, back, "system")
            visited += ["wait_supplement"]
            accept_done = self._after(back, rnd.uniform(0.02, 0.3))
        clerk = self._task(case, f"accept_{suffix}", at, accept_done, 1)
        if what == "not_accepted":
            case["visited"] = [*visited, "end_not_accepted"]
            self.rows["accountability"].append({
                "case_id": case["id"], "task_id": None, "kind": "rejection", "department": window, "person": clerk[1],
                "days_over": None, "reason": "不属于本窗口受理范围", "granted_by": None, "days_granted": None,
                "at": self.t(accept_done)})
            self._end(case, accept_done, "end_not_accepted")
            return
        self._accept(case, accept_done)
        due = self.hours.close(accept_done, item.promised_days)
        visited.append("check_immediate")
        staff = [clerk[0]]
        if item.kind == "immediate":
            done = min(self._after(accept_done, rnd.uniform(0.01, 0.15)), due - 60)
            staff.append(self._task(case, f"handle_immediate_{suffix}", accept_done, done, 0, [window],
                                    staff=clerk)[0])
            visited += ["route_immediate", f"handle_immediate_{suffix}", "merge_immediate", "immediate_outcome",
                        "merge_completed", "record_completion", "end_completed"]
        else:
            late = rnd.random() < 0.004
            span = item.promised_days * (rnd.uniform(1.02, 1.4) if late else rnd.uniform(0.3, 0.9))
            done = self._after(accept_done, span)
            special = next((r for r, share in PAUSES[1:] if rnd.random() < share), None)
            if special:  # a procedure art. 45 leaves out of the limit, started by the coordinators
                start = self._after(accept_done, span * 0.3)
                end = self._after(start, rnd.uniform(1, 5))
                self._pause(case, special, None, start, end, "xietiao")
                due += self.hours.between(start, end) * self.hours.ds  # the limit moves on by whole working days
                done += end - start
            visited.append("split_reviews")
            reviewed = accept_done
            for dept in item.departments:
                element = REVIEWS.get(dept)
                if element:
                    finished = accept_done + (done - accept_done) * rnd.uniform(0.4, 0.85)
                    staff.append(self._task(case, element, accept_done, finished, 5)[0])
                    visited.append(element)
                    reviewed = max(reviewed, finished)
            refused = what == "promised" and rnd.random() < 0.003
            decision = "refuse_application" if refused else "issue_licences"
            self._task(case, decision, reviewed, done, 2, [window], staff=clerk)
            visited += ["join_reviews", "collect_reviews", "check_reviews", decision, "merge_consolidation",
                        "merge_completed", "record_completion", "end_completed"]
            if refused:
                self.rows["accountability"].append({
                    "case_id": case["id"], "task_id": None, "kind": "rejection", "department": window,
                    "person": clerk[1], "days_over": None, "reason": "审查意见：不符合法定条件", "granted_by": None,
                    "days_granted": None, "at": self.t(done)})
        case["due_at"] = self.t(due)
        case["visited"] = visited
        self._end(case, done, "end_completed")
        self.served.append((done, case["id"], eid, window_group(item.category)))
        self._rate(case, done, window, staff)

    def _special(self, process_id: str, code: str, received: float, data: dict, title: str,
                 started_by: tuple[int | None, str]) -> dict:
        item = self.items[code]
        case = self._new_case(process_id, item, received, {**data, "item": item.terms, "channel": "online"}, title,
                              started_by, self.rnd.choice(self.pool)[0], "online")
        self._accept(case, received)  # no caseTimeLimitFrom: counted from the start
        case["due_at"] = self.t(self.hours.close(received, item.promised_days))
        return case

    def _steps(self, case: dict, steps: list[tuple[str, int | None]], start: float, span: float,
               groups: list[str] | None = None) -> list:
        """Tasks one after the other over `span` working days; the workers."""
        at, workers = start, []
        for element, due_days in steps:
            done = self._after(at, span / len(steps))
            workers.append(self._task(case, element, at, done, max(due_days, math.ceil(span / len(steps))),
                                      groups)[0])
            at = done
        return workers

    def _agency(self, received: float) -> None:
        rnd = self.rnd
        name = self._name()
        case = self._special("green_channel", "LS-001", received, {
            "enterprise": {"name": name, "credit_code": self._credit(rnd.randrange(10**6))},
            "project": {"name": "新建生产线项目", "investment": round(rnd.uniform(3000, 50000), 1),
                        "investor_type": rnd.choice(("内资", "外资")), "city_introduced": True, "key_project": True},
            "contact": {"name": "王经理", "phone": "0591-87654321"}}, name, rnd.choice(self.applicants))
        span = min(max(rnd.gauss(1.5, 0.35), 0.6), 1.95)  # 全程代理: about a working day and a half
        workers = self._steps(case, [("take_case", 1), ("collect_materials", 1), ("approve", 2),
                                     ("deliver_results", 1)], received, span)
        case["visited"] = ["start_application", "check_eligibility", "eligible_gateway", "take_case",
                           "collect_materials", "prepare_approvals", "express_approvals", "approve",
                           "deliver_results", "end_done"]
        done = self._after(received, span)
        self.served.append((done, case["id"], case["enterprise_id"], "首席服务台"))
        self._end(case, done, "end_done")
        self._rate(case, done, "首席服务台", workers)

    def _big(self, received: float) -> None:
        rnd = self.rnd
        name = f"年产{rnd.randint(2, 30)}万吨{rnd.choice(('新材料', '新能源', '智能装备', '生物医药'))}项目"
        case = self._special("big_project", "XM-001", received, {
            "project_name": name, "investor": self._name(), "investment": rnd.randint(50000, 500000),
            "approvals_needed": ["企业设立登记", "税务登记", "特种设备使用登记"], "description": "市引进重大项目"},
            name, self._staff(["常务副主任"]))
        span = rnd.uniform(8, 25)
        self._steps(case, [("assign_coordinator", 1), ("plan_approvals", 2), ("department_approval", 10),
                           ("department_approval", 10), ("department_approval", 10), ("report_completion", 2)],
                    received, span)
        case["visited"] = ["project_received", "assign_coordinator", "plan_approvals", "department_approvals",
                           "approval_start", "department_approval", "record_approval", "approval_result",
                           "approval_done", "report_completion", "project_completed"]
        self._end(case, self._after(received, span), "project_completed")

    def _exit(self, received: float) -> None:
        rnd = self.rnd
        name = self._name()
        case = self._special("enterprise_exit", "QC-001", received, {
            "enterprise": {"name": name, "credit_code": self._credit(rnd.randrange(10**6)),
                           "annual_tax": round(rnd.uniform(500, 5000), 1), "annual_output": 56000.0,
                           "employees": rnd.randint(200, 3000)},
            "destination": "外省市", "reasons": "用地扩张受限", "urgency": "紧急"}, name, self._staff(["商务"]))
        retained = rnd.random() < 0.8
        last = [("record_retained", 1), ("follow_up_visit", 3)] if retained else [("record_departure", 1)]
        span = rnd.uniform(4, 9)
        self._steps(case, [("analyse_zhaoshang", 3), ("analyse_guanliban", 3), ("meet_enterprise", 5), *last],
                    received, span)
        end = "end_retained" if retained else "end_left"
        case["visited"] = ["start_report", "split_coordination", "analyse_zhaoshang", "analyse_guanliban",
                           "join_coordination", "meet_enterprise", "merge_meeting", "outcome_gateway",
                           *[e for e, _ in last], *(["wait_follow_up"] if retained else []), end]
        self._end(case, self._after(received, span), end)

    def _joint(self, received: float) -> None:
        rnd = self.rnd
        subject = f"{self._name()}扩建项目会审"
        meeting = dt.datetime.fromtimestamp(self.hours.epoch(received), clock.HALL_TZ).replace(tzinfo=None)
        case = self._special("joint_review", "HS-001", received, {
            "subject": subject, "related_case": "", "lead_window": "建设窗口", "departments": ["工商", "国税", "质监"],
            "meeting_at": meeting.isoformat(timespec="minutes"),
            "place": "三楼会审室", "materials": ["项目申请报告"]}, subject, self._staff(["建设窗口"]))
        span = rnd.uniform(3, 9)
        self._steps(case, [("record_opinion", 2), ("record_opinion", 2), ("record_opinion", 2), ("decide", 1),
                           ("record_minutes", 1)], received, span)
        case["visited"] = ["convene", "schedule_meeting", "wait_for_meeting", "collect_opinions", "opinion_start",
                           "record_opinion", "record_answer", "opinion_given", "summarize_opinions", "decide",
                           "decision_result", "record_minutes", "has_follow_ups", "review_closed"]
        self._end(case, self._after(received, span), "review_closed")

    # --- the feedback loops ----------------------------------------------------------------
    def complaints(self) -> None:
        """The year's 意见建议 and 投诉 (engine.complaints), each its complaint case run to 结案:
        classified, investigated by the window concerned, rectified when substantiated, answered
        (now and then later than the two working days the reply has), closed."""
        rnd = self.rnd
        office, supervisor = self._staff([complaints.OFFICE]), self._staff([complaints.SUPERVISION])
        for at in sorted(self.hours.at(self._day(30), rnd.random()) for _ in range(self.plan.complaints)):
            kind, subject, content = rnd.choice(REMARKS)
            channel = rnd.choice(("portal", "portal", "counter", "phone", "visit"))
            department = rnd.choice(("内资窗口", "外资窗口", "建设窗口", "社会事务窗口"))
            substantiated = kind == "complaint" and rnd.random() < 0.6
            enterprise = rnd.choice(self.pool) if channel == "portal" else None
            by = rnd.choice(self.applicants) if channel == "portal" else self._staff([department])
            reply = "经调查核实，已责成窗口整改并加强培训。" if substantiated else "感谢您的意见，我们将认真研究改进。"
            data = {"kind": kind, "subject": subject, "content": content, "department": department,
                    "investigate_days": 5, "findings": "核实属实" if substantiated else "未发现问题",
                    "substantiated": substantiated, "misconduct": "none", "reply": reply, "accountable": False}
            case = self._new_case(complaints.PROCESS, None, at, data, subject, by,
                                  enterprise[0] if enterprise else None, "online")
            self._accept(case, at)
            steps = [("classify", 1, None), ("investigate", 5, [department])]
            if substantiated:
                steps.append(("rectify", 10, [department]))
            late = rnd.random() < 0.1
            steps += [("reply", 2, None), ("close", 3, None)]
            w, replied = at, None
            for element, due, groups in steps:
                took = rnd.uniform(2.2, 3.5) if element == "reply" and late else rnd.uniform(0.2, due * 0.8)
                done = self._after(w, took)
                staff = office if element in ("classify", "reply") else supervisor if element == "close" else None
                self._task(case, element, w, done, due, groups, staff=staff)
                replied = done if element == "reply" else replied
                w = done
            case["visited"] = ["start_intake", "classify", "investigate", "substantiated_gateway",
                               *(["rectify"] if substantiated else []), "reply", "close", "end_closed"]
            self._end(case, w, "end_closed")
            self.rows["complaints"].append({
                "id": self._id("complaints"), "case_id": case["id"], "channel": channel, "kind": kind,
                "subject": subject, "content": content, "contact_name": None if enterprise else "李先生",
                "contact_phone": None if enterprise else "13800000000", "entered_by_id": by[0] or office[0],
                "enterprise_id": enterprise[0] if enterprise else None, "about_case_id": None,
                "about_task_id": None, "department": department, "status": "closed", "finding": "none",
                "responsible": None, "responsible_task_id": None, "reply": reply, "replied_at": self.t(replied),
                "created_at": self.t(at), "closed_at": self.t(w)})

    def visits(self) -> None:
        """A round of 回访 a quarter (engine.visits): a sample of the enterprises served in the
        quarter, each its visit case; reached at the first call, or not after three."""
        p, rnd = self.plan, self.rnd
        total = p.visited + p.unreached
        if not total or not self.served:
            return
        office = self._staff([visits.OFFICE])
        quarters = [[] for _ in range(4)]
        for done, case_id, eid, window in self.served:
            quarters[(self.hours.dates[self.hours.day(done)].month - 1) // 3].append((done, case_id, eid, window))
        unreached = set(rnd.sample(range(total), p.unreached))
        n = 0
        for q, served in enumerate(quarters):
            last: dict[int, tuple] = {}
            for row in served:  # the enterprise's last case done in the quarter
                last[row[2]] = row
            size = min(len(last), total // 4 + (q < total % 4), visits.MAX_VISITS)
            if not size:
                continue
            since = dt.date(p.year, 3 * q + 1, 1)
            until = (since + dt.timedelta(days=95)).replace(day=1) - dt.timedelta(days=1)
            # set up on the working day after the quarter; the last quarter's in the year's last week,
            # for the enterprises served by then
            start = min(bisect.bisect_right(self.hours.dates, until), self.workdays - 5)
            round_at = self.hours.at(start, 0.05)
            last = {eid: row for eid, row in last.items() if row[0] < round_at}
            size = min(len(last), size)
            round_id = self._id("visit_rounds")
            title = f"{p.year}年第{'一二三四'[q]}季度回访"
            self.rows["visit_rounds"].append({
                "id": round_id, "title": title, "period_from": self.date(since), "period_until": self.date(until),
                "sample": "count", "sample_size": size, "created_by": office[1], "created_at": self.t(round_at)})
            for eid in sorted(random.Random(f"{since}/{until}/{title}").sample(sorted(last), size)):
                done, case_id, _, window = last[eid]
                reached = n not in unreached
                n += 1
                self._visit(round_id, eid, case_id, done, window, reached, round_at, office)

    def _visit(self, round_id: int, eid: int, served: int, done: float, window: str, reached: bool,
               at: float, office) -> None:
        rnd = self.rnd
        satisfaction = (5 if rnd.random() < 0.85 else 4 if rnd.random() < 0.9 else 3) if reached else None
        name = self.enterprise_names.get(eid, "")
        data = {"enterprise_name": name, "contact": "", "phone": "", "served_case": "", "department": window,
                "attempts": 0 if reached else 3, "reached": reached, "satisfaction": satisfaction, "suggestion": ""}
        case = self._new_case(visits.PROCESS, None, at, data, name, (None, office[1]), eid, "online")
        self._accept(case, at)
        calls = 1 if reached else 3
        w = at
        for call in range(calls):
            start = w if call == 0 else self.hours.at(self.hours.day(w) + 1, 0.05)  # 次一工作日再访
            w = min(self._after(start, rnd.uniform(0.02, 0.4)), self.last)
            self._task(case, "call", start, w, 3, staff=office)
        again = ["count_attempt", "retry_gateway", "wait_next_day", "call", "reached_gateway"]
        case["visited"] = ["start_visit", "call", "reached_gateway", *again * (calls - 1),
                           *(["end_reached"] if reached else ["count_attempt", "retry_gateway", "end_unreached"])]
        self._end(case, w, "end_reached" if reached else "end_unreached")
        self.rows["visits"].append({
            "round_id": round_id, "enterprise_id": eid, "served_case_id": served, "served_at": self.t(done),
            "department": window, "case_id": case["id"], "status": "reached" if reached else "unreached",
            "attempts": 0 if reached else 3, "satisfaction": satisfaction, "suggestion": None, "complaint_id": None,
            "visited_by": office[1], "visited_at": self.t(w)})

    def consultations(self, flush: Callable[[bool], None]) -> None:
        rnd = self.rnd
        online = [i for i in self.items.values() if i.online]
        answerers = {i.code: [m[1] for m in self.members.get(WINDOWS[i.category], [])] or ["system"] for i in online}
        times = sorted(self.hours.at(self._day(), rnd.random()) for _ in range(self.plan.consultations))
        for asked in times:  # a year ago: every one answered (an account has few questions open at once)
            item = rnd.choice(online)
            self.rows["consultations"].append({
                "item_code": item.code, "category": item.category, "question": rnd.choice(QUESTIONS),
                "asked_by_id": rnd.choice(self.applicants)[0], "asked_at": self.t(asked),
                "answer": "请参阅办事指南，或致电窗口咨询。", "answered_by": rnd.choice(answerers[item.code]),
                "answered_at": self.t(self._after(asked, rnd.uniform(0.05, 1)))})
            if len(self.rows["consultations"]) >= BATCH:
                flush(True)

    def counters(self) -> None:
        """Case numbers go on from the history's last of each day (none is made twice)."""
        self.rows["case_counters"] = [{"prefix": prefix, "day": day, "last": last}
                                      for (prefix, day), last in self.numbers.items()]


def _spec(bundle, element: str):
    for spec in (bundle.spec, *bundle.subprocess_specs.values()):
        for ts in spec.task_specs.values():
            if getattr(ts, "bpmn_id", None) == element:
                return ts
    return None
