"""The engine's front door: one object that owns the services and their shared caches."""

from __future__ import annotations

from engine import calendar
from engine.assessment import Assessment
from engine.catalogue import Catalogue
from engine.complaints import Complaints
from engine.deadlines import Deadlines
from engine.external import ExternalTasks
from engine.identity import Identity
from engine.incidents import Incidents
from engine.limits import Policy
from engine.materials import MAX_BYTES, FileStore, Materials
from engine.moves import Moves
from engine.notices import Notices
from engine.portal import Portal
from engine.ratings import Ratings
from engine.repository import Repository
from engine.runtime import Runtime
from engine.statistics import Statistics
from engine.tasks import Tasks
from engine.visits import Visits


class Hall:
    """`session` is a SQLAlchemy scoped_session (Flask-SQLAlchemy's `db.session`, or one of
    your own in a script) and `bind` its engine; `forms` is the form registry
    (forms.registry); `files_dir` the directory of the materials' files (`instance/files`
    in the app), every node's; `hall_name` and `base_url` what printed notices say and link to."""

    def __init__(self, session, bind, forms, password_method: str | None = None, policy: Policy | None = None,
                 office_hours: str = calendar.DEFAULT_HOURS, files_dir: str = "files", max_file_bytes: int = MAX_BYTES,
                 hall_name: str = "区行政服务中心", base_url: str = "http://127.0.0.1:5000"):
        self.session = session
        self.bind = bind
        self.identity = Identity(session, password_method)
        self.repository = Repository(session, forms)
        self.runtime = Runtime(session, bind, self.repository, forms, policy=policy)
        self.tasks = Tasks(session, self.runtime, forms)
        self.deadlines = Deadlines(session, bind, self.runtime, self.tasks, policy)
        self.ratings = Ratings(session, bind, self.runtime)
        self.incidents = Incidents(session, self.runtime)
        self.external = ExternalTasks(session, self.runtime)
        self.moves = Moves(session, bind, self.runtime, self.repository)
        self.catalogue = Catalogue(session)
        self.materials = Materials(session, self.runtime, FileStore(files_dir), max_file_bytes)
        self.portal = Portal(session, self.identity, self.runtime, self.materials, password_method, hall_name)
        self.statistics = Statistics(session)
        self.notices = Notices(session, self.runtime, self.materials.store, hall_name, base_url)
        self.complaints = Complaints(session, self.runtime, self.tasks)
        self.visits = Visits(session, self.runtime, self.complaints)
        self.assessment = Assessment(session, self.materials.store, max_file_bytes)
        calendar.activate(calendar.Holder(self.deadlines.load_calendar, self.deadlines.load_past_calendar,
                                          office_hours))
