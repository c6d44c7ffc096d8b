"""Call activities (the called process in the same upload, or deployed before) and
escalation events thrown inside them."""

import pytest

from engine.errors import Invalid
from tests.conftest import DIAGRAMS


@pytest.fixture
def people(h):
    return h.user("police", groups=["公安"]), h.user("office", groups=["管理办"])


def test_called_process_deployed_together_and_escalation_caught(h, people):
    police, office = people
    pv = h.deploy(DIAGRAMS / "caller.bpmn", DIAGRAMS / "called.bpmn")
    assert pv.process_id == "caller"  # the one no other calls
    case = h.hall.runtime.start(office, "caller", {})
    assert [t.element_id for t in h.open_tasks(case.id)] == ["engrave"]
    h.complete(police, case.id, "engrave", {"problem": True})
    assert sorted(t.element_id for t in h.open_tasks(case.id)) == ["coordinate", "finish"]
    h.complete(office, case.id, "coordinate", {})
    h.complete(office, case.id, "finish", {})
    assert h.hall.runtime.case(case.id).status == "completed"


def test_called_process_taken_from_an_earlier_deployment(h, people):
    police, office = people
    h.deploy(DIAGRAMS / "called.bpmn")
    h.deploy(DIAGRAMS / "caller.bpmn")
    case = h.hall.runtime.start(office, "caller", {})
    h.complete(police, case.id, "engrave", {"problem": False})
    assert [t.element_id for t in h.open_tasks(case.id)] == ["finish"]


def test_unknown_called_process_is_refused(h):
    with pytest.raises(Invalid) as e:
        h.deploy(DIAGRAMS / "caller.bpmn")
    assert e.value.extra["errors"][0]["element_id"] == "call_seal"
    assert "seal_engraving" in e.value.message
