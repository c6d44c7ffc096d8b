"""Many people completing parallel branches of the same cases at the same moment."""

import random
import threading
from collections import Counter

from engine.errors import Conflict
from tests.conftest import DIAGRAMS
from webapp import db
from webapp import hall as current_hall

REVIEWS = ("r1", "r2", "r3", "r4")


def _side_by_side(worker, clerks):
    """worker(clerk, i) for every clerk, each in a thread of its own; back when all are done."""
    threads = [threading.Thread(target=worker, args=(c, i)) for i, c in enumerate(clerks)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)


def test_parallel_branches_completed_concurrently_lose_nothing_and_double_nothing(app, h):
    clerks = [h.user(f"clerk{i}", groups=["window", "gs", "gt", "dt", "zj"]) for i in range(6)]
    h.deploy(DIAGRAMS / "parallel5.bpmn")
    cases = []
    for n in range(8):
        case = h.hall.runtime.start(clerks[0], "parallel5", {"n": n})
        h.complete(clerks[0], case.id, "accept", {})
        cases.append(case.id)
    task_ids = [t.id for c in cases for t in h.open_tasks(c)]
    assert len(task_ids) == 8 * len(REVIEWS)

    results: Counter = Counter()
    errors: list = []
    done_by: dict = {}
    barrier = threading.Barrier(len(clerks))

    def worker(clerk, seed):
        order = task_ids[:]
        random.Random(seed).shuffle(order)
        with app.app_context():
            hall = current_hall()
            barrier.wait()
            for task_id in order:  # every worker tries every task: each must complete exactly once
                try:
                    hall.tasks.complete(clerk, task_id, {f"by_{task_id}": clerk.username})
                    results["ok"] += 1
                    done_by.setdefault(task_id, []).append(clerk.username)
                except Conflict:
                    results["conflict"] += 1
                except Exception as e:  # anything else is a failure of the engine
                    errors.append(repr(e))

    _side_by_side(worker, clerks)
    assert not errors, errors[:3]
    assert results["ok"] == len(task_ids)
    assert all(len(v) == 1 for v in done_by.values())
    db.session.rollback()  # this test's own session: drop its read snapshot from before the threads
    for case_id in cases:
        case = h.hall.runtime.case(case_id)
        assert [t.element_id for t in h.open_tasks(case_id)] == ["decide"], case.number
        # every branch's data arrived: nothing written by one completer was lost by another
        reviews = [t for t in h.hall.tasks.case_tasks(case_id, status="completed") if t.element_id in REVIEWS]
        assert len(reviews) == 4
        assert all(f"by_{t.id}" in case.data for t in reviews), case.data
        completed = [e for e in h.hall.runtime.events(case_id) if e.action == "completed"]
        assert len(completed) == 1 + 4


def test_claims_of_tasks_open_to_the_same_groups_in_either_order_never_deadlock(app, h, tmp_path):
    # each review open to two groups, named in the opposite order by its neighbour: the
    # counts of both groups' queues change in every claim and unclaim
    crossed = tmp_path / "crossed.bpmn"
    text = (DIAGRAMS / "parallel5.bpmn").read_text(encoding="utf-8").replace('id="parallel5"', 'id="crossed"')
    for one, other in (("gs", "gt"), ("dt", "zj")):
        text = text.replace(f'candidateGroups="{one}"', f'candidateGroups="{one},{other}"') \
            .replace(f'candidateGroups="{other}"', f'candidateGroups="{other},{one}"')
    crossed.write_text(text, encoding="utf-8")
    clerks = [h.user(f"clerk{i}", groups=["window", "gs", "gt", "dt", "zj"]) for i in range(6)]
    h.deploy(crossed)
    task_ids = []
    for n in range(4):
        case = h.hall.runtime.start(clerks[0], "crossed", {"n": n})
        h.complete(clerks[0], case.id, "accept", {})
        task_ids += [t.id for t in h.open_tasks(case.id)]
    errors: list = []
    barrier = threading.Barrier(len(clerks))

    def worker(clerk, seed):
        rnd = random.Random(seed)
        with app.app_context():
            tasks = current_hall().tasks
            barrier.wait()
            for _ in range(40):
                task_id = rnd.choice(task_ids)
                try:
                    tasks.claim(clerk, task_id)
                    tasks.unclaim(clerk, task_id)
                except Conflict:
                    pass  # another clerk holds it
                except Exception as e:  # a deadlock, or anything else
                    errors.append(repr(e))

    _side_by_side(worker, clerks)
    assert not errors, errors[:3]
    db.session.rollback()
    assert h.hall.tasks.counts(clerks[0]) == {"mine": 0, "group": 2 * len(task_ids)}


def test_a_claim_and_a_completion_of_one_task_at_the_same_moment_is_a_conflict_never_an_error(app, h):
    """One clerk claims, another completes, the same unclaimed task at once: one of them
    wins, the other is told so (409), on either database and in any order of their locks."""
    claimer, completer = (h.user(f"clerk{i}", groups=["window", "gs", "gt", "dt", "zj"]) for i in range(2))
    h.deploy(DIAGRAMS / "parallel5.bpmn")
    rounds = []
    for n in range(80):
        case = h.hall.runtime.start(claimer, "parallel5", {"n": n})
        rounds.append(h.open_tasks(case.id)[0].id)
    errors: list = []
    outcome: Counter = Counter()

    for task_id in rounds:
        barrier = threading.Barrier(2)

        def worker(clerk, i, task_id=task_id, barrier=barrier):
            with app.app_context():
                tasks = current_hall().tasks
                barrier.wait()
                try:
                    if i == 0:
                        tasks.claim(clerk, task_id)
                    else:
                        tasks.complete(clerk, task_id, {})
                    outcome["claimed" if i == 0 else "completed"] += 1
                except Conflict:
                    outcome["conflict"] += 1
                except Exception as e:  # a deadlock, a 500
                    errors.append(repr(e))

        _side_by_side(worker, [claimer, completer])
    assert not errors, errors[:3]
    assert outcome["conflict"] + outcome["claimed"] + outcome["completed"] == 2 * len(rounds)


def test_two_starts_with_one_idempotency_key_at_the_same_moment_make_one_case(app, h):
    clerk = h.user("clerk", groups=["window"])
    h.deploy(DIAGRAMS / "parallel5.bpmn")
    for round_ in range(10):
        got, errors = [], []
        barrier = threading.Barrier(2)

        def worker(_clerk, i, key=f"retry-{round_}", barrier=barrier, got=got, errors=errors):
            with app.app_context():
                barrier.wait()
                try:
                    got.append(current_hall().runtime.start(clerk, "parallel5", {"n": 1}, key=key).id)
                except Exception as e:
                    errors.append(repr(e))

        _side_by_side(worker, [clerk, clerk])
        assert not errors, errors
        assert len(got) == 2 and got[0] == got[1]
    db.session.rollback()
    assert h.hall.runtime.cases(clerk)[1] == 10
