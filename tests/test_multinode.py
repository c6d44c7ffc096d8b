"""Two app nodes on one database, both running the scheduler's work: no timer fires twice,
no task escalates twice."""

import datetime as dt
import os
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest
import sqlalchemy as sa

from engine import clock
from engine.models import Event, Notification
from tests.conftest import DIAGRAMS

ROOT = Path(__file__).resolve().parent.parent
NODE = """
import datetime as dt, os, time
from app import create_app
from engine import clock
clock.set_offset(dt.timedelta(seconds=float(os.environ["CLOCK_OFFSET"])))  # the test's clock
from webapp import hall
app = create_app({"SQLALCHEMY_DATABASE_URI": os.environ["DB"], "SECRET_KEY": "x", "HALL_SCHEDULER": "off",
                  "HALL_LOG_LEVEL": "WARNING"})
with app.app_context():
    h = hall()
    end = time.monotonic() + float(os.environ["FOR"])
    while time.monotonic() < end:
        h.runtime.fire_due_timers()
        h.deadlines.sweep()
        time.sleep(0.01)
"""


@pytest.mark.slow
def test_two_nodes_fire_and_escalate_each_thing_once(h, db_url):
    h.user("clerk", groups=["window"])
    coords = [h.user(f"coord{i}", groups=["管理办"], roles=["coordinator"]) for i in range(2)]
    h.deploy(DIAGRAMS / "race.bpmn")
    clerk = h.actor("clerk")
    cases = [h.hall.runtime.start(clerk, "race", {}).id for _ in range(30)]
    h.hall.session.remove()
    offset = (clock.now() - dt.datetime.now(dt.UTC)).total_seconds()
    env = {**os.environ, "DB": db_url, "FOR": "5", "PYTHONPATH": str(ROOT), "CLOCK_OFFSET": str(offset)}
    nodes = [subprocess.Popen([sys.executable, "-c", NODE], cwd=ROOT, env=env, stderr=subprocess.PIPE)
             for _ in range(2)]
    for node in nodes:
        _, err = node.communicate(timeout=60)
        assert node.returncode == 0, err.decode()[-2000:]
    s = h.hall.session
    fired = Counter(s.scalars(sa.select(Event.case_id).where(Event.action == "timer_fired")))
    escalated = Counter(s.scalars(sa.select(Event.task_id).where(Event.action == "escalated")))
    assert all(fired[c] == 1 for c in cases), fired  # every timer fired, once
    assert len(escalated) == 30 and set(escalated.values()) == {1}  # every overdue review escalated, once
    per_coordinator = Counter(s.scalars(sa.select(Notification.user_id).where(Notification.kind == "escalated")))
    assert per_coordinator == {coords[0].id: 30, coords[1].id: 30}


OTHER_NODE = """
import datetime as dt, json, os, sys
from app import create_app
from engine import clock
from webapp import hall
clock.freeze(dt.datetime.fromisoformat(os.environ["CLOCK_AT"]))  # the test's clock
app = create_app({"SQLALCHEMY_DATABASE_URI": os.environ["DB"], "SECRET_KEY": "x", "HALL_SCHEDULER": "off",
                  "HALL_LOG_LEVEL": "WARNING"})
with app.app_context():
    h = hall()
    from engine.identity import actor_of
    clerk = actor_of(h.identity.user("clerk"))

    def due_of_a_new_case():
        case = h.runtime.start(clerk, "deadlines", {"immediate": False})
        return h.tasks.case_tasks(case.id)[0].due_at.isoformat()

    print(json.dumps({"due": due_of_a_new_case()}), flush=True)  # this node now holds the calendar
    sys.stdin.readline()  # ...while the other node changes it
    overrides = {d.isoformat(): w for d, w in h.deadlines.calendar().overrides.items()}
    print(json.dumps({"due": due_of_a_new_case(), "overrides": overrides}), flush=True)
"""


def test_a_calendar_change_counts_on_every_node_at_once(h, db_url):
    """Node 2 holds the calendar in memory; node 1 closes a day. The very next case node 2
    starts is counted with the closure, and node 2 shows it."""
    import json

    clock.freeze(dt.datetime(2026, 12, 1, 10, tzinfo=clock.HALL_TZ))  # Tuesday
    h.deploy(DIAGRAMS / "deadlines.bpmn")
    h.user("clerk", groups=["window"])
    admin = h.user("admin", roles=["admin"])
    h.hall.session.remove()
    env = {**os.environ, "DB": db_url, "PYTHONPATH": str(ROOT), "CLOCK_AT": clock.now().isoformat()}
    node = subprocess.Popen([sys.executable, "-c", OTHER_NODE], cwd=ROOT, env=env, stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        before = json.loads(node.stdout.readline() or "{}")
        assert before.get("due") == "2026-12-03T09:30:00+00:00", node.stderr.read()[-2000:]  # Thursday 17:30
        h.hall.deadlines.set_day(admin, dt.date(2026, 12, 3), False, "系统升级闭厅")
        node.stdin.write("go\n")
        node.stdin.flush()
        after = json.loads(node.stdout.readline() or "{}")
        assert after.get("due") == "2026-12-04T09:30:00+00:00", node.stderr.read()[-2000:]  # Friday instead
        assert after["overrides"] == {"2026-12-03": False}
    finally:
        node.kill()
        node.wait(10)


WORKER_NODE = """
import datetime as dt, json, os
from app import create_app
from engine import clock
from webapp import hall
clock.freeze(dt.datetime.fromisoformat(os.environ["CLOCK_AT"]))  # the test's clock
app = create_app({"SQLALCHEMY_DATABASE_URI": os.environ["DB"], "SECRET_KEY": "x", "HALL_SCHEDULER": "off",
                  "HALL_LOG_LEVEL": "WARNING"})
with app.app_context():
    from engine.identity import actor_of
    h = hall()
    system = actor_of(h.identity.user("gongshang-sys"))
    got = []
    while True:
        tasks = h.external.fetch_and_lock(system, os.environ["WORKER"], 3,
                                          [{"topicName": "gongshang-registry", "lockDuration": 600_000}])
        if not tasks:
            break
        for t in tasks:
            h.external.complete(system, t["id"], os.environ["WORKER"], {"by": os.environ["WORKER"]})
            got.append(t["id"])
    print(json.dumps(got))
"""


@pytest.mark.slow
def test_two_app_nodes_share_one_topics_external_tasks_and_never_the_same_one(h, db_url):
    """Two workers, each on its own app node (its own process and connections), fetch,
    lock and complete the work of one topic: each task is done once, by one of them."""
    import json

    clerk = h.user("clerk", groups=["window"])
    h.user("gongshang-sys", roles=["integrator"])
    h.deploy(DIAGRAMS / "external.bpmn")
    cases = [h.hall.runtime.start(clerk, "external", {"company": f"甲{i}"}).id for i in range(30)]
    h.hall.session.remove()
    env = {**os.environ, "DB": db_url, "PYTHONPATH": str(ROOT), "CLOCK_AT": clock.now().isoformat()}
    nodes = [subprocess.Popen([sys.executable, "-c", WORKER_NODE], cwd=ROOT, env={**env, "WORKER": f"w{i}"},
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE) for i in range(2)]
    done = []
    for node in nodes:
        out, err = node.communicate(timeout=120)
        assert node.returncode == 0, err.decode()[-2000:]
        done.append(json.loads(out.decode().strip().splitlines()[-1]))
    assert not set(done[0]) & set(done[1]) and len(done[0]) + len(done[1]) == 30
    assert sorted(h.hall.runtime.case(c).data["by"] for c in cases).count("w0") == len(done[0])
    assert all([t.element_id for t in h.open_tasks(c)] == ["review"] for c in cases)


MOVER = """
import datetime as dt, os, time
from app import create_app
from engine import clock
clock.set_offset(dt.timedelta(seconds=float(os.environ["CLOCK_OFFSET"])))
from webapp import hall
app = create_app({"SQLALCHEMY_DATABASE_URI": os.environ["DB"], "SECRET_KEY": "x", "HALL_SCHEDULER": "off",
                  "HALL_LOG_LEVEL": "WARNING"})
with app.app_context():
    h = hall()
    end = time.monotonic() + 60
    idle = 0
    while time.monotonic() < end and idle < 20:  # till nothing is left to take for a while
        idle = 0 if h.moves.work(seconds=1) else idle + 1
        time.sleep(0.01)
"""


@pytest.mark.slow
def test_two_app_nodes_move_one_moves_cases_each_once(h, db_url, tmp_path):
    from engine.models import CaseMoveItem
    from tests.test_moves import WITH_CHECK

    clerk = h.user("clerk", groups=["window"])
    owner = h.user("owner", roles=["process_owner"])
    h.deploy(DIAGRAMS / "timers.bpmn")
    cases = [h.hall.runtime.start(clerk, "timers", {}).id for _ in range(60)]
    (tmp_path / "timers.bpmn").write_text(WITH_CHECK)
    h.deploy(tmp_path / "timers.bpmn")
    move = h.hall.moves.start(owner, "timers")
    h.hall.session.remove()
    offset = (clock.now() - dt.datetime.now(dt.UTC)).total_seconds()
    env = {**os.environ, "DB": db_url, "PYTHONPATH": str(ROOT), "CLOCK_OFFSET": str(offset)}
    nodes = [subprocess.Popen([sys.executable, "-c", MOVER], cwd=ROOT, env=env, stderr=subprocess.PIPE)
             for _ in range(2)]
    for node in nodes:
        _, err = node.communicate(timeout=120)
        assert node.returncode == 0, err.decode()[-2000:]
    s = h.hall.session
    moved = Counter(s.scalars(sa.select(Event.case_id).where(Event.action == "moved")))
    assert moved == {c: 1 for c in cases}  # every case moved, once
    assert set(s.scalars(sa.select(CaseMoveItem.status))) == {"moved"}
    shown = h.hall.moves.view(owner, move["id"])
    assert (shown["status"], shown["moved"]) == ("done", 60)
    assert {h.hall.runtime.case(c).version for c in cases} == {2}
