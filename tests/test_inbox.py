"""The inbox: most urgent first, across held and group tasks, with filters and counts."""

import datetime as dt

import pytest

from engine import clock
from engine.errors import Invalid
from tests.conftest import DIAGRAMS


@pytest.fixture
def hall3(h):
    clock.freeze(dt.datetime(2026, 11, 30, 9, 0, tzinfo=clock.HALL_TZ))
    h.deploy(DIAGRAMS / "timers.bpmn")   # review: due in 2 days
    h.deploy(DIAGRAMS / "form_task.bpmn")  # review: no due date
    clerk = h.user("clerk", groups=["window", "coord"])
    starter = h.user("starter", groups=["window"])
    cases = []
    for i in range(3):
        cases.append(h.hall.runtime.start(starter, "form_task", {"company": f"企业{i}"}))
        clock.advance(dt.timedelta(minutes=1))
    urgent = h.hall.runtime.start(starter, "timers", {})
    return h, clerk, cases, urgent


def test_most_urgent_first_then_oldest_across_held_and_group_tasks(hall3):
    h, clerk, cases, urgent = hall3
    held = h.open_tasks(cases[2].id)[0]
    h.hall.tasks.claim(clerk, held.id)
    rows, total = h.hall.tasks.inbox(clerk)
    assert total == 4
    assert [r.case_id for r in rows] == [urgent.id, cases[0].id, cases[1].id, cases[2].id]
    assert rows[3].assignee == "clerk"
    assert h.hall.tasks.counts(clerk) == {"mine": 1, "group": 3}


def test_filters_search_and_sorts(hall3):
    h, clerk, cases, urgent = hall3
    assert [r.case_title for r in h.hall.tasks.inbox(clerk, search="企业1")[0]] == ["企业1"]
    assert [r.case_id for r in h.hall.tasks.inbox(clerk, search=cases[2].number)[0]] == [cases[2].id]
    assert h.hall.tasks.inbox(clerk, process_id="timers")[1] == 1
    assert h.hall.tasks.inbox(clerk, group="coord") == ([], 0)
    newest = [r.case_id for r in h.hall.tasks.inbox(clerk, sort="newest")[0]]
    assert newest == [urgent.id, cases[2].id, cases[1].id, cases[0].id]
    page2, total = h.hall.tasks.inbox(clerk, page=2, per_page=3)
    assert total == 4 and [r.case_id for r in page2] == [cases[2].id]
    with pytest.raises(Invalid):
        h.hall.tasks.inbox(clerk, sort="random")


def test_the_navigation_counts_serve_as_the_inbox_total(hall3):
    h, clerk, cases, _urgent = hall3
    h.hall.tasks.claim(clerk, h.open_tasks(cases[2].id)[0].id)
    counts = h.hall.tasks.counts(clerk)
    for kwargs in ({}, {"scope": "mine"}, {"scope": "group"}, {"group": "window"}, {"process_id": "timers"},
                   {"group": "coord"}):
        assert h.hall.tasks.inbox(clerk, counts=counts, **kwargs) == h.hall.tasks.inbox(clerk, **kwargs), kwargs
    assert h.hall.tasks.inbox(clerk, counts=counts)[1] == 4
