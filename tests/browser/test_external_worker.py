"""The README's external-task worker (scripts/external_worker.py, the standard library's HTTP
client alone) against a running hall: it signs in, fetches, locks and completes, and the
case goes on."""

from __future__ import annotations

import subprocess
import sys

from tests.conftest import HERE
from tests.test_external import ext, start  # noqa: F401  (the hall with the external diagram)
from webapp import db


def test_the_example_worker_completes_the_work_of_its_topic(ext, live_server):  # noqa: F811
    h = ext
    cases = start(h, 3)
    h.hall.identity.create_user("gongshang-sys", "worker-pass", [], ["integrator"], update=True)
    db.session.commit()
    run = subprocess.run([sys.executable, str(HERE.parent / "scripts" / "external_worker.py"), "--url", live_server,
                          "--user", "gongshang-sys", "--password", "worker-pass", "--topic", "gongshang-registry",
                          "--once"], capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stderr
    assert run.stdout.count("completed") == 3
    db.session.rollback()
    for case in cases:
        assert h.hall.runtime.case(case.id).data["licence_no"].startswith("9135")
        assert [t.element_id for t in h.open_tasks(case.id)] == ["review"]
