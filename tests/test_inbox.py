"""The inbox: most urgent first, across held and group tasks, with filters and counts."""

import datetime as dt

import pytest
import sqlalchemy as sa

from engine import clock
from engine.errors import Invalid
from engine.models import TaskQueue
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


def test_group_counts_follow_every_change_to_the_queues(hall3, tmp_path):
    h, clerk, _cases, _urgent = hall3
    two = tmp_path / "two_groups.bpmn"  # its review is open to both of the clerk's groups
    two.write_text((DIAGRAMS / "form_task.bpmn").read_text(encoding="utf-8")
                   .replace('id="form_task"', 'id="two_groups"').replace('candidateGroups="window"',
                                                                        'candidateGroups="window,coord"'),
                   encoding="utf-8")
    h.deploy(two)
    h.user("other", groups=["window", "coord"])
    coordinator = h.user("coordinator", roles=["coordinator"])
    starter = h.actor("starter")

    def queued(*groups):
        rows = h.hall.session.execute(sa.select(TaskQueue.group_name, sa.func.count()).group_by(TaskQueue.group_name))
        return sum(n for g, n in rows if g in groups)

    def check(group, held=0):
        assert h.hall.tasks.counts(clerk) == {"mine": held, "group": group}
        assert group == queued("window", "coord")
        assert h.hall.tasks.inbox(clerk, scope="group")[1] == group
        assert h.hall.tasks.inbox(clerk, group="coord")[1] == queued("coord")

    check(4)
    both = h.hall.runtime.start(starter, "two_groups", {"company": "两组企业"})
    task = h.open_tasks(both.id)[0]
    check(6)  # one task, counted in each of its two groups
    h.hall.tasks.claim(clerk, task.id)
    check(4, held=1)
    h.hall.tasks.unclaim(clerk, task.id)
    check(6)
    h.hall.tasks.assign(coordinator, task.id, "other")
    check(4)
    h.hall.tasks.complete(h.actor("other"), task.id, {"decision": "reject", "pages": 3})
    check(4)
    clock.advance(dt.timedelta(hours=3))  # the urgent review times out: 督办 (coord) instead
    h.hall.runtime.fire_due_timers()
    check(4)
    assert queued("coord") == 1
