"""The hall as a server process: timers fire from the scheduler within a second of falling
due, and a timer that fell due while the server was down fires when it starts again."""

import datetime as dt
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from tests.conftest import DIAGRAMS

ROOT = Path(__file__).resolve().parent.parent


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    def __init__(self, db_url: str, instance: Path):
        self.port = _port()
        self.env = {**os.environ, "DATABASE_URL": db_url, "HALL_INSTANCE": str(instance), "HALL_SCHEDULER": "on",
                    "HALL_SECRET_KEY": "restart-test", "HALL_LOG_LEVEL": "WARNING"}
        self.proc = None

    def start(self):
        gunicorn = Path(sys.executable).with_name("gunicorn")
        self.proc = subprocess.Popen([str(gunicorn), "-w", "1", "-b", f"127.0.0.1:{self.port}", "app:create_app()"],
                                     cwd=ROOT, env=self.env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if self.call("GET", "/healthz")["status"] == "ok":
                    return time.monotonic()
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("server did not start: " + self.proc.stderr.read().decode()[-2000:])

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        self.proc.wait(20)

    def call(self, method, path, body=None, token=None):
        req = urllib.request.Request(f"http://127.0.0.1:{self.port}{path}", method=method,
                                     data=json.dumps(body).encode() if body is not None else None,
                                     headers={"Content-Type": "application/json",
                                              **({"Authorization": f"Bearer {token}"} if token else {})})
        with urllib.request.urlopen(req, timeout=10) as r:
            return json.loads(r.read())


def _wait_for_task(server, token, case_id, timeout=5.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        case = server.call("GET", f"/api/v1/cases/{case_id}", token=token)
        if case["open_tasks"]:
            return case
        time.sleep(0.05)
    raise AssertionError(f"timer of case {case_id} did not fire")


@pytest.mark.slow
def test_timers_fire_on_time_and_survive_a_restart(h, db_url, tmp_path):
    h.user("clerk", groups=["window"])
    h.deploy(DIAGRAMS / "short_timer.bpmn")
    h.hall.session.remove()
    server = Server(db_url, tmp_path / "instance")
    server.start()
    try:
        token = server.call("POST", "/api/v1/auth/token", {"username": "clerk", "password": "pw"})["token"]
        # while running: fires within a second of its due time
        case = server.call("POST", "/api/v1/cases", {"process_id": "short_timer", "data": {"delay": "PT1S"}}, token)
        due = dt.datetime.fromisoformat(case["next_timer_at"])
        fired = _wait_for_task(server, token, case["id"])
        fired_at = dt.datetime.fromisoformat(next(e["at"] for e in fired["events"] if e["action"] == "timer_fired"))
        assert dt.timedelta(0) <= fired_at - due < dt.timedelta(seconds=1), (due, fired_at)
        # a timer that falls due while the server is down fires when it comes back
        down = server.call("POST", "/api/v1/cases", {"process_id": "short_timer",
                                                     "data": {"delay": "PT2S", "kept": "数据"}}, token)
        server.stop()
        time.sleep(2.5)
        assert dt.datetime.now(dt.UTC) > dt.datetime.fromisoformat(down["next_timer_at"])
        started = server.start()
        after = _wait_for_task(server, token, down["id"])
        assert time.monotonic() - started < 2.0
        assert after["data"]["kept"] == "数据" and after["open_tasks"][0]["element_id"] == "after"
        assert [e["action"] for e in after["events"]].count("timer_fired") == 1
    finally:
        if server.proc and server.proc.poll() is None:
            server.stop()


@pytest.mark.slow
def test_the_served_hall_keeps_closed_months_for_the_statistics_at_start(h, db_url, tmp_path):
    """The scheduler's statistics job runs as the server starts: a month long closed is kept
    (statistics_months) before any page asks for it."""
    import sqlalchemy as sa

    from engine import clock

    clerk = h.user("clerk", groups=["window"])
    h.deploy(DIAGRAMS / "short_timer.bpmn")
    with clock.frozen_at(dt.datetime(2020, 3, 10, 10, tzinfo=clock.HALL_TZ)):
        h.hall.runtime.start(clerk, "short_timer", {"delay": "PT1S"})
    h.hall.session.remove()
    server = Server(db_url, tmp_path / "instance")
    server.start()
    try:
        engine = sa.create_engine(db_url)
        deadline = time.monotonic() + 20
        kept = []
        try:
            while not kept and time.monotonic() < deadline:
                time.sleep(0.2)
                with engine.connect() as conn:
                    kept = conn.execute(sa.text("SELECT rows FROM statistics_months WHERE month = '2020-03' "
                                                "AND source = 'received' AND by = ''")).all()
        finally:
            engine.dispose()
        assert kept, "the closed month was not kept"
        rows = kept[0][0]
        assert (json.loads(rows) if isinstance(rows, str) else rows) == [[None, {"received": [1, 0]}]]
    finally:
        server.stop()
