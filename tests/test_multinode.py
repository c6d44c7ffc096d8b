"""Two app nodes on one database, both running the scheduler's work: no timer fires twice,
no task escalates twice."""

import os
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest
import sqlalchemy as sa

from engine.models import Event, Notification
from tests.conftest import DIAGRAMS

ROOT = Path(__file__).resolve().parent.parent
NODE = """
import os, time
from app import create_app
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
    env = {**os.environ, "DB": db_url, "FOR": "5", "PYTHONPATH": str(ROOT)}
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
