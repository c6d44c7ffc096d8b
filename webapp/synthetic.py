"""A year of the hall's history, made up and written straight into the tables (bulk inserts):
what the statistics, the lists and the case pages show in a demo, and what the benchmark
measures them with. Deterministic from a seed.

Every case made is over (办结, 不予受理 or 撤回) and went the way its diagram goes: its
`visited` elements, its completed tasks (worked by the demo staff of their groups), its start
and end in the history, its pauses, ratings and accountability records; it opens on its page
like a case that ran. Nothing of a workflow's state is kept for a case that is over, so none
is made. The processes and the catalogue must be there first (`flask demo`)."""

from __future__ import annotations

import datetime as dt
import math
import random
from collections.abc import Callable
from dataclasses import dataclass

import sqlalchemy as sa

from engine import calendar, catalogue, clock
from engine.db import json_dumps
from engine.errors import Conflict, Invalid, NotFound
from engine.models import (
    Accountability,
    Case,
    CaseCounter,
    CatalogueItem,
    Consultation,
    Enterprise,
    Event,
    Pause,
    Rating,
    RatingStaff,
    Task,
    User,
    user_groups,
)

MAX_CASES = 2_000_000  # one run's bound: what a year's history may hold
WINDOWS = {"domestic": "内资窗口", "foreign": "外资窗口", "construction": "建设窗口", "social": "社会事务窗口"}
_SUFFIX = {"domestic": "domestic", "foreign": "foreign", "construction": "construction", "social": "social"}
REVIEWS = {"工商": "review_gongshang", "国税": "review_guoshui", "地税": "review_dishui", "质监": "review_zhijian",
           "公安": "review_gongan"}
# lanes no demo account belongs to: who works their tasks
STAFFED_BY = {"部门首席代表": ["工商", "国税", "地税", "质监"], "审批部门": ["工商", "国税", "地税", "质监"],
              "牵头窗口": ["内资窗口"], "申请人": ["管理办"]}
QUESTIONS = ["需要提交哪些材料？", "可以网上办理吗？", "办理时限是多久？", "住所使用证明可以用租赁合同吗？",
             "是否收费？", "法定代表人不能到场怎么办？", "外资企业设立需要先审批吗？", "营业执照什么时候可以领取？"]
PAUSES = [("补正", 0.06), ("听证", 0.002), ("检验检测", 0.004), ("鉴定", 0.002), ("专家评审", 0.002)]
NAMES = "闽江 榕城 海峡 鼓楼 仓山 晋安 马尾 长乐 闽侯 连江 罗源 永泰 平潭 福清 台江 五四 东街 南门 西湖 左海".split()
TRADES = "数字科技 智能制造 文化传媒 食品 贸易 餐饮 物流 建材 医疗器械 新能源 软件 咨询 教育科技 旅游 纺织".split()


@dataclass(frozen=True)
class Plan:
    """What a year holds. `cases`: accepted (受理) cases in all, the special ones included;
    `capital`: registered capital of the new enterprises in all, 万元."""

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

    def check(self) -> None:
        special = self.domestic + self.foreign + self.agency + self.big_projects + self.exits + self.joint_reviews
        for name in ("cases", "consultations", "domestic", "foreign", "agency", "big_projects", "exits",
                     "joint_reviews"):
            value = getattr(self, name)
            if not 0 <= value <= MAX_CASES:
                raise Invalid(f"{name} must be 0 to {MAX_CASES:,}", {name: [f"0 to {MAX_CASES:,}"]})
        if self.cases < special:
            raise Invalid(f"cases ({self.cases}) must be at least the special cases together ({special})",
                          {"cases": [f"at least {special}"]})
        if not clock.FIRST_DAY.year < self.year < clock.LAST_DAY.year:
            raise Invalid("year out of range", {"year": ["out of range"]})
        if not 0 <= self.capital <= 1e12:
            raise Invalid("capital out of range", {"capital": ["0 to 10^12"]})


def generate(h, plan: Plan, write: Callable[[str, list[dict]], None] | None = None, echo=lambda s: None) -> dict:
    """Write the plan's year into the hall's database; returns how many rows of each table.
    `write(table, rows)` inserts rows (default: SQLAlchemy Core on the hall's session, one
    transaction). Refused when the hall already has cases received in that year."""
    plan.check()
    maker = _Maker(h, plan)
    s = h.session
    if s.scalar(sa.select(sa.func.count()).select_from(Case).where(Case.created_at >= maker.since,
                                                                   Case.created_at < maker.until)):
        raise Conflict(f"the hall already has cases received in {plan.year}: history is only made for an empty year")
    own = write is None
    if own:
        write = _writer(s)
    counts: dict[str, int] = {}

    def flush(force: bool = False) -> None:
        if not force and len(maker.rows["cases"]) < 5000:
            return
        for table in _ORDER:
            rows = maker.rows[table]
            if rows:
                write(table, rows)
                counts[table] = counts.get(table, 0) + len(rows)
                maker.rows[table] = []

    try:
        maker.enterprises()
        for kind in maker.kinds():
            maker.case(kind)
            flush()
        flush(True)
        maker.consultations(flush)
        flush(True)
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
                                                  Consultation, CaseCounter)}
_TABLES["rating_staff"] = RatingStaff.__table__
_ORDER = ["enterprises", "cases", "tasks", "events", "pauses", "accountability", "ratings", "rating_staff",
          "consultations", "case_counters"]
_OWN_IDS = ("enterprises", "cases", "ratings")


def _writer(s) -> Callable[[str, list[dict]], None]:
    """Rows into a table: SQLAlchemy Core, or on SQLite the driver's executemany with the values
    as SQLAlchemy stores them (UTC text, JSON text), three times faster for a year of rows."""
    if s.get_bind().dialect.name != "sqlite":
        return lambda table, rows: s.execute(sa.insert(_TABLES[table]), rows)
    cursor = s.connection().connection.driver_connection.cursor()
    statements = {}

    def write(table: str, rows: list[dict]) -> None:
        columns = list(rows[0])
        key = (table, tuple(columns))
        if key not in statements:
            statements[key] = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})"
        cursor.executemany(statements[key], [tuple(_sqlite(r[c]) for c in columns) for r in rows])

    return write


def _sqlite(value):
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
    if isinstance(value, dict | list):
        return json_dumps(value)
    return value


def _advance_sequences(s) -> None:
    """On PostgreSQL the ids written here leave the tables' sequences behind: move them on."""
    if s.get_bind().dialect.name != "postgresql":
        return
    for table in _OWN_IDS:
        s.execute(sa.text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                          f"(SELECT coalesce(max(id), 1) FROM {table}))"))


class _Maker:
    def __init__(self, h, plan: Plan):
        self.h, self.plan = h, plan
        self.rnd = random.Random(plan.seed)
        self.cal = calendar.current()
        self.since = dt.datetime(plan.year, 1, 1, tzinfo=clock.HALL_TZ).astimezone(dt.UTC)
        self.until = dt.datetime(plan.year + 1, 1, 1, tzinfo=clock.HALL_TZ).astimezone(dt.UTC)
        day = dt.date(plan.year, 1, 1)
        self.days = []
        while day.year == plan.year:
            if self.cal.is_workday(day):
                self.days.append(day)
            day += dt.timedelta(days=1)
        s = h.session
        self.versions = {}
        for process_id in ("parallel_approval", "green_channel", "joint_review", "big_project", "enterprise_exit"):
            pv = h.repository.latest(process_id, required=False)
            if pv is None:
                raise NotFound(f"no process '{process_id}': deploy the hall's processes first (flask demo)")
            self.versions[process_id] = (pv, h.repository.bundle(pv.id))
        self.items = {}
        for code in ("NZ-001", "WZ-001", "SW-001", "GA-001", "YH-001", "GS-002", "SW-002", "LS-001", "XM-001",
                     "QC-001", "HS-001"):
            item = s.scalar(sa.select(CatalogueItem).where(CatalogueItem.code == code)
                            .order_by(CatalogueItem.version.desc()).limit(1))
            if item is None:
                raise NotFound(f"no item '{code}' in the catalogue: load it first (flask demo)")
            self.items[code] = item
        members: dict[str, list[tuple[int, str]]] = {}
        for uid, username, group in s.execute(sa.select(User.id, User.username, user_groups.c.group_name)
                                              .join(user_groups, user_groups.c.user_id == User.id)
                                              .where(User.active.is_(True)).order_by(User.id)):
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

    # --- helpers -------------------------------------------------------------------------
    def _id(self, table: str) -> int:
        value = self.next_id[table]
        self.next_id[table] += 1
        return value

    def _staff(self, groups: list[str]) -> tuple[int | None, str]:
        for g in groups:
            for g2 in [g, *STAFFED_BY.get(g, [])]:
                people = self.members.get(g2)
                if people:
                    return self.rnd.choice(people)
        return None, "system"

    def _moment(self, day: dt.date, share: float) -> dt.datetime:
        """A moment `share` of the way through the day's office hours."""
        midnight = dt.datetime.combine(day, dt.time(), clock.HALL_TZ)
        return self.cal.add_working_seconds(midnight, 60 + share * (self.cal.day_seconds - 120)).astimezone(dt.UTC)

    def _after(self, at: dt.datetime, workdays: float) -> dt.datetime:
        return self.cal.add_working_seconds(at, workdays * self.cal.day_seconds).astimezone(dt.UTC)

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
            at = self._moment(rnd.choice(self.days), rnd.random())
            self.rows["enterprises"].append({"id": eid, "credit_code": self._credit(n), "name": name,
                                             "contact_name": None, "phone": None, "created_at": at})
            if n < p.domestic + p.foreign:
                self.new_enterprises.append((eid, self._credit(n), name, capital[n]))
            else:
                self.pool.append((eid, self._credit(n), name))

    def kinds(self):
        """What each case is, in a shuffled order: the special ones, then the rest of the plan's accepted cases
        (承诺件 and 即办件), and the cases never accepted (不予受理, 撤回) on top."""
        p = self.plan
        kinds = ([("establish", n) for n in range(p.domestic + p.foreign)] + [("agency", 0)] * p.agency
                 + [("big", 0)] * p.big_projects + [("exit", 0)] * p.exits + [("joint", 0)] * p.joint_reviews)
        rest = p.cases - len(kinds)
        promised = int(rest * 0.42)
        kinds += [("promised", 0)] * promised + [("immediate", 0)] * (rest - promised)
        kinds += [("not_accepted", 0)] * (p.cases // 120) + [("withdrawn", 0)] * (p.cases // 70)
        self.rnd.shuffle(kinds)
        return kinds

    def case(self, kind: tuple[str, int]) -> None:
        what, n = kind
        rnd = self.rnd
        # late enough in the year only what ends within it: the year's figures are the plan's
        tail = 3 if what in ("immediate", "not_accepted", "withdrawn") else 30
        day = rnd.choice(self.days[:-tail] or self.days)
        received = self._moment(day, rnd.random() * 0.85)
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

    def _new_case(self, process_id: str, item: CatalogueItem | None, received: dt.datetime, data: dict,
                  title: str, started_by: tuple[int | None, str], enterprise_id: int | None,
                  channel: str) -> dict:
        pv, _ = self.versions[process_id]
        day = received.astimezone(clock.HALL_TZ).strftime("%Y%m%d")
        seq = self.numbers[(pv.case_prefix, day)] = self.numbers.get((pv.case_prefix, day), 0) + 1
        case = {
            "id": self._id("cases"), "number": f"{pv.case_prefix}-{day}-{seq:05d}", "process_id": process_id,
            "version_id": pv.id, "version": pv.version, "status": "completed", "title": title[:256],
            "started_by_id": started_by[0], "created_at": received, "updated_at": received, "ended_at": None,
            "revision": 1, "state": b"", "data": data, "next_timer_at": None, "error": None, "visited": [],
            "due_at": None, "paused_since": None, "paused_reason": None, "paused_element": None,
            "calendar_revision": calendar.revision(), "due_note": None, "waiting": [],
            "item_id": item.id if item is not None else None, "channel": channel, "enterprise_id": enterprise_id,
            "rate_invite_at": None, "accepted_at": None, "end_element": None, "workdays_taken": None,
        }
        self.rows["cases"].append(case)
        self._event(case, started_by[1], "started", None, received,
                    {"version": pv.version, "channel": channel, **({"item": item.code, "item_version": item.version}
                                                                   if item is not None else {})})
        return case

    def _event(self, case: dict, actor: str, action: str, element: str | None, at: dt.datetime, detail=None):
        self.rows["events"].append({"case_id": case["id"], "task_id": None, "process_id": case["process_id"],
                                    "at": at, "actor": actor, "action": action, "element_id": element,
                                    "detail": detail})

    def _task(self, case: dict, element: str, created: dt.datetime, done: dt.datetime, due_days: int | None,
              groups: list[str] | None = None, staff: tuple[int | None, str] | None = None) -> tuple:
        bundle = self.versions[case["process_id"]][1]
        spec = self.specs.get((case["process_id"], element), False)
        if spec is False:
            spec = self.specs[(case["process_id"], element)] = _spec(bundle, element)
        groups = groups or ([spec.lane] if spec is not None and spec.lane else [])
        worker = staff or self._staff(groups)
        due = self.cal.add_workdays(created, due_days).astimezone(dt.UTC) if due_days is not None else None
        self.rows["tasks"].append({
            "case_id": case["id"], "spiff_id": f"{case['id']:012x}-{len(self.rows['tasks']):023x}"[:36],
            "process_id": case["process_id"], "case_number": case["number"], "case_title": case["title"],
            "element_id": element, "name": (bundle.element_names.get(element) or element)[:256],
            "lane": spec.lane if spec is not None else None, "candidate_groups": groups, "assignee_id": worker[0],
            "status": "completed", "form_key": None, "created_at": created, "due_at": due,
            "claimed_at": created if worker[0] else None, "completed_at": done, "completed_by_id": worker[0],
            "data": None, "context": None, "warning": "none", "escalation": 0, "next_alert_at": None,
            "due_note": None})
        if due is not None and done > due:
            self.rows["accountability"].append({
                "case_id": case["id"], "task_id": None, "kind": "late", "department": "、".join(groups) or None,
                "person": worker[1], "days_over": float(self.cal.late_workdays(due, done)), "reason": None,
                "granted_by": None, "days_granted": None, "at": done})
        return worker

    def _end(self, case: dict, at: dt.datetime, end: str | None, status: str = "completed") -> None:
        case["status"], case["ended_at"], case["updated_at"], case["end_element"] = status, at, at, end
        if status == "completed" and case["accepted_at"] is not None:
            case["workdays_taken"] = round(self.cal.working_seconds(case["accepted_at"], at) / self.cal.day_seconds,
                                           3)
        names = self.versions[case["process_id"]][1].element_names
        self._event(case, "system", "ended" if status == "completed" else status, end, at,
                    {"name": names.get(end)} if end and status == "completed" else None)

    def _rate(self, case: dict, at: dt.datetime, window: str | None, staff: list[int | None]) -> None:
        rnd = self.rnd
        if rnd.random() > 0.93:
            return
        roll = rnd.random()
        level = rnd.choice((1, 2)) if roll < 0.001 else 5 if roll < 0.80 else 4 if roll < 0.975 else 3
        rid = self._id("ratings")
        self.rows["ratings"].append({
            "id": rid, "case_id": case["id"], "stage": "completed", "level": level, "dimensions": None,
            "comment": None, "channel": rnd.choice(("device", "portal", "counter")), "recorded_by_id": None,
            "at": at + dt.timedelta(minutes=rnd.randint(1, 600)), "item_id": case["item_id"], "window": window,
            "rectification_case_id": None})
        for uid in dict.fromkeys(u for u in staff if u is not None):
            self.rows["rating_staff"].append({"rating_id": rid, "user_id": uid})

    def _pause(self, case: dict, reason: str, element: str | None, start: dt.datetime, end: dt.datetime,
               by: str) -> None:
        self.rows["pauses"].append({
            "case_id": case["id"], "reason": reason, "element_id": element, "started_at": start, "started_by": by,
            "ended_at": end, "ended_by": by, "working_seconds": self.cal.working_seconds(start, end),
            "workdays": self.cal.workdays_between(start, end)})

    # --- the processes -------------------------------------------------------------------
    def _parallel(self, what: str, n: int, received: dt.datetime) -> None:
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
                "item": catalogue.case_terms(item), "channel": "online" if online else "counter"}
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
        suffix = _SUFFIX[item.category]
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
                "at": accept_done})
            self._end(case, accept_done, "end_not_accepted")
            return
        case["accepted_at"] = accept_done
        case["due_at"] = self.cal.add_workdays(accept_done, item.promised_days).astimezone(dt.UTC)
        visited.append("check_immediate")
        staff = [clerk[0]]
        if item.kind == "immediate":
            done = self._after(accept_done, rnd.uniform(0.01, 0.15))
            if done > case["due_at"]:
                done = case["due_at"] - dt.timedelta(minutes=1)
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
                case["due_at"] = self.cal.shift_workdays(case["due_at"], self.cal.workdays_between(start, end)) \
                    .astimezone(dt.UTC)
                done = self._after(done, self.cal.working_seconds(start, end) / self.cal.day_seconds)
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
                    "days_granted": None, "at": done})
        case["visited"] = visited
        self._end(case, done, "end_completed")
        self._rate(case, done, window, staff)

    def _special(self, process_id: str, code: str, received: dt.datetime, data: dict, title: str,
                 started_by: tuple[int | None, str]) -> dict:
        item = self.items[code]
        case = self._new_case(process_id, item, received, {**data, "item": catalogue.case_terms(item),
                                                           "channel": "online"}, title, started_by,
                              self.rnd.choice(self.pool)[0], "online")
        case["accepted_at"] = received  # no caseTimeLimitFrom: counted from the start
        case["due_at"] = self.cal.add_workdays(received, item.promised_days).astimezone(dt.UTC)
        return case

    def _steps(self, case: dict, steps: list[tuple[str, int | None]], start: dt.datetime, span: float) -> list:
        """Tasks one after the other over `span` working days; the workers."""
        at, workers = start, []
        for element, due_days in steps:
            done = self._after(at, span / len(steps))
            workers.append(self._task(case, element, at, done, max(due_days, math.ceil(span / len(steps))))[0])
            at = done
        return workers

    def _agency(self, received: dt.datetime) -> None:
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
        self._end(case, self._after(received, span), "end_done")
        self._rate(case, case["ended_at"], "首席服务台", workers)

    def _big(self, received: dt.datetime) -> None:
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

    def _exit(self, received: dt.datetime) -> None:
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

    def _joint(self, received: dt.datetime) -> None:
        rnd = self.rnd
        subject = f"{self._name()}扩建项目会审"
        case = self._special("joint_review", "HS-001", received, {
            "subject": subject, "related_case": "", "lead_window": "建设窗口", "departments": ["工商", "国税", "质监"],
            "meeting_at": received.astimezone(clock.HALL_TZ).replace(tzinfo=None).isoformat(timespec="minutes"),
            "place": "三楼会审室", "materials": ["项目申请报告"]}, subject, self._staff(["建设窗口"]))
        span = rnd.uniform(3, 9)
        self._steps(case, [("record_opinion", 2), ("record_opinion", 2), ("record_opinion", 2), ("decide", 1),
                           ("record_minutes", 1)], received, span)
        case["visited"] = ["convene", "schedule_meeting", "wait_for_meeting", "collect_opinions", "opinion_start",
                           "record_opinion", "record_answer", "opinion_given", "summarize_opinions", "decide",
                           "decision_result", "record_minutes", "has_follow_ups", "review_closed"]
        self._end(case, self._after(received, span), "review_closed")

    def consultations(self, flush: Callable[[bool], None]) -> None:
        rnd = self.rnd
        online = [i for i in self.items.values() if i.online]
        for _ in range(self.plan.consultations):
            item = rnd.choice(online)
            asked = self._moment(rnd.choice(self.days), rnd.random())
            answered = rnd.random() < 0.97
            self.rows["consultations"].append({
                "item_code": item.code, "category": item.category, "question": rnd.choice(QUESTIONS),
                "asked_by_id": rnd.choice(self.applicants)[0], "asked_at": asked,
                "answer": "请参阅办事指南，或致电窗口咨询。" if answered else None,
                "answered_by": self._staff([WINDOWS[item.category]])[1] if answered else None,
                "answered_at": self._after(asked, rnd.uniform(0.05, 1)) if answered else None})
            if len(self.rows["consultations"]) >= 20_000:
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
