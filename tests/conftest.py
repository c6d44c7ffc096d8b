"""Test fixtures: the app on SQLite and on PostgreSQL, fresh data for every test.

`--db sqlite|postgresql|both` (default both) picks the databases; PostgreSQL is the
server at 127.0.0.1:5432 (database `test`, or HALL_TEST_PG). An unreachable server is an
error, never a skip.

No test reads the real date: the hall's clock starts every test at a set moment (`MOMENTS`,
`--moment`, default a plain Tuesday morning) and runs on from there. The deadline and
process tests run again at each awkward moment (on SQLite), so that none of them passes
only at some hours or on some dates.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import uuid
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask.testing import FlaskClient

os.environ.setdefault("HALL_SCHEDULER", "off")

from app import create_app
from engine import clock
from engine.identity import actor_of
from webapp import db
from webapp import hall as current_hall

HERE = Path(__file__).resolve().parent
DIAGRAMS = HERE / "diagrams"
PROCESSES = HERE.parent / "processes"
# Moments in the hall's time zone at which the hall's clock starts a test.
MOMENTS = {
    "plain": "2026-12-01T10:00",           # a Tuesday morning: every test's default
    "friday-1729": "2026-12-04T17:29",     # a minute before the weekend
    "spring-eve": "2026-02-13T16:00",      # the last weekday before Spring Festival's holiday
    "makeup-saturday": "2026-02-28T10:00",  # a make-up working Saturday (调休)
    "new-year-eve": "2026-12-31T17:00",    # the turn of the year, into an unpublished one
    "sunday-night": "2026-12-06T22:30",
    "unpublished": "2027-03-10T10:00",     # a Wednesday in a year without a schedule yet
}
# the tests that run at every moment: deadlines, timers and the hall's processes
AT_EVERY_MOMENT = ("tests/test_deadlines.py", "tests/test_api_deadlines.py", "tests/test_timers_messages.py",
                   "tests/processes/")
PG_URL = os.environ.get("HALL_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


def pytest_addoption(parser):
    parser.addoption("--db", default=os.environ.get("HALL_TEST_DB", "both"),
                     choices=("sqlite", "postgresql", "both"), help="databases to run the tests on")
    parser.addoption("--moment", default=os.environ.get("HALL_TEST_MOMENT"), choices=[*MOMENTS, "all"],
                     help="the moment the hall's clock starts each test at (default: plain, and every "
                          "moment for the deadline and process tests)")


def pytest_generate_tests(metafunc):
    if "backend" in metafunc.fixturenames:
        choice = metafunc.config.getoption("--db")
        backends = ["sqlite", "postgresql"] if choice == "both" else [choice]
        if metafunc.definition.get_closest_marker("sqlite_only") or "/browser/" in str(metafunc.definition.path) \
                or "/ui/" in str(metafunc.definition.path):
            backends = [b for b in backends if b == "sqlite"] or ["sqlite"]
        metafunc.parametrize("backend", backends, scope="session")
    if "moment" in metafunc.fixturenames:
        chosen = metafunc.config.getoption("--moment")
        path = Path(metafunc.definition.path).relative_to(HERE.parent).as_posix()
        if chosen and chosen != "all":
            moments = [chosen]
        elif chosen == "all" or path.startswith(AT_EVERY_MOMENT):
            moments = list(MOMENTS)
        else:
            moments = ["plain"]
        metafunc.parametrize("moment", moments, indirect=True)


def pytest_collection_modifyitems(config, items):
    """The awkward moments run on SQLite: the engine's dates do not depend on the database."""
    keep, drop = [], []
    for item in items:
        params = getattr(item, "callspec", None)
        params = params.params if params else {}
        pg_at_awkward = params.get("backend") == "postgresql" and params.get("moment", "plain") != "plain"
        (drop if pg_at_awkward and not config.getoption("--moment") else keep).append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep


def pytest_configure(config):
    config.addinivalue_line("markers", "sqlite_only: runs on SQLite only (not engine behaviour; pages, tests/ui and"
                                       " tests/browser, are SQLite only too)")
    config.addinivalue_line("markers", "slow: takes more than a few seconds")


def _migrate(app):
    from flask_migrate import upgrade

    with app.app_context():
        upgrade(directory=str(HERE.parent / "migrations"))
        db.engine.dispose()  # SQLite: checkpoints the WAL into the file we copy


@pytest.fixture(autouse=True)
def moment(request):
    """The hall's clock for the test: it starts at the moment's time and runs on."""
    name = request.param if hasattr(request, "param") else "plain"
    start = dt.datetime.fromisoformat(MOMENTS[name]).replace(tzinfo=clock.HALL_TZ)
    clock.reset()
    clock.set_offset(start - dt.datetime.now(dt.UTC))
    yield name
    clock.reset()


@pytest.fixture(scope="session")
def template(backend, tmp_path_factory):
    """A migrated database per backend, built once per session."""
    if backend == "sqlite":
        path = tmp_path_factory.mktemp("template") / "hall.db"
        url = f"sqlite:///{path}"
        _migrate(create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "t"}))
        yield {"backend": backend, "path": path}
        return
    schema = f"hall_test_{uuid.uuid4().hex[:10]}"
    engine = sa.create_engine(PG_URL)
    with engine.begin() as conn:  # fails loudly if the server is not there
        conn.execute(sa.text(f"CREATE SCHEMA {schema}"))
    # synchronous_commit off: the tests do not need each commit on disk before the next
    url = f"{PG_URL}?options=-csearch_path%3D{schema}%20-csynchronous_commit%3Doff"
    _migrate(create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "t"}))
    yield {"backend": backend, "url": url, "schema": schema}
    with engine.begin() as conn:
        conn.execute(sa.text(f"DROP SCHEMA {schema} CASCADE"))
    engine.dispose()


@pytest.fixture
def db_url(template, tmp_path):
    if template["backend"] == "sqlite":
        path = tmp_path / "hall.db"
        shutil.copy(template["path"], path)
        return f"sqlite:///{path}"
    engine = sa.create_engine(template["url"])
    with engine.begin() as conn:
        tables = [r[0] for r in conn.execute(sa.text(
            "SELECT tablename FROM pg_tables WHERE schemaname = :s AND tablename <> 'alembic_version'"),
            {"s": template["schema"]})]
        conn.execute(sa.text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
    engine.dispose()
    return template["url"]


class FreshContextClient(FlaskClient):
    """Each request runs in its own app context, as in production: its own `g` (the signed-in
    user) and its own database session. The test's own session then starts afresh, so it
    reads what the request wrote."""

    def open(self, *args, **kwargs):
        with self.application.app_context():
            response = super().open(*args, **kwargs)
            response.get_data()
        db.session.rollback()
        return response


@pytest.fixture
def app(db_url, tmp_path, moment):
    app = create_app({"SQLALCHEMY_DATABASE_URI": db_url, "SECRET_KEY": "test", "TESTING": True,
                      "HALL_SCHEDULER": "off", "HALL_PASSWORD_METHOD": "pbkdf2:sha256:1000",
                      "HALL_FILES_DIR": str(tmp_path / "files")})
    app.test_client_class = FreshContextClient
    with app.app_context():
        yield app
        db.session.remove()
        _queue_counts_kept(db.engine)
        db.engine.dispose()


def _queue_counts_kept(engine):
    """Whatever a test did, each group's kept count of queued tasks is its queue's length."""
    with engine.connect() as conn:
        kept = {g: n for g, n in conn.execute(sa.text("SELECT group_name, queued FROM queue_counts")) if n}
        queued = dict(conn.execute(sa.text("SELECT group_name, count(*) FROM task_queue GROUP BY group_name")).all())
    assert kept == queued, "queue_counts differs from task_queue"


@pytest.fixture
def hall(app):
    return current_hall()


@pytest.fixture
def client(app):
    return app.test_client()


class Helpers:
    """Small conveniences for building a hall in a test."""

    def __init__(self, hall, client):
        self.hall = hall
        self.client = client
        self._tokens = {}

    def user(self, name, groups=(), roles=("staff",), password="pw"):
        u = self.hall.identity.create_user(name, password, list(groups), list(roles))
        return actor_of(u)

    def actor(self, name):
        return actor_of(self.hall.identity.user(name))

    def deploy(self, *paths, process_id=None, owner=None):
        owner = owner or self._owner()
        files = {Path(p).name: Path(p).read_bytes() for p in paths}
        pv, _ = self.hall.repository.deploy(files, owner, process_id)
        return pv

    def _owner(self):
        try:
            return self.actor("owner")
        except Exception:
            return self.user("owner", roles=("process_owner",))

    def token(self, name, password="pw"):
        if name not in self._tokens:
            r = self.client.post("/api/v1/auth/token", json={"username": name, "password": password})
            assert r.status_code == 200, r.get_json()
            self._tokens[name] = r.get_json()["token"]
        return {"Authorization": f"Bearer {self._tokens[name]}"}

    def open_tasks(self, case_id, element_id=None):
        tasks = self.hall.tasks.case_tasks(case_id)
        return [t for t in tasks if element_id is None or t.element_id == element_id]

    def complete(self, actor, case_id, element_id, data=None, index=0):
        tasks = self.open_tasks(case_id, element_id)
        assert tasks, f"no open task {element_id} in case {case_id}: " \
                      f"{[t.element_id for t in self.open_tasks(case_id)]}"
        return self.hall.tasks.complete(actor, tasks[index].id, data or {})


@pytest.fixture
def h(hall, client):
    return Helpers(hall, client)
