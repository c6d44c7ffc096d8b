"""Moving running cases to another version of their process: a process owner reads a dry run
(which cases can move, and why not the others), starts the move, and the workers move the
cases, one transaction each; open tasks keep their holder, due date and history, waiting
timers their due times, and the history records the move. A move is watched, paused,
resumed and cancelled, and a worker that stops leaves its cases to the next."""

import datetime as dt

import pytest
import sqlalchemy as sa

from engine import clock, moves
from engine.errors import Conflict, Forbidden, Invalid, NotFound
from engine.models import CaseMoveItem
from tests.conftest import DIAGRAMS

MONDAY = dt.datetime(2026, 11, 30, 9, 0, tzinfo=clock.HALL_TZ)
TIMERS = (DIAGRAMS / "timers.bpmn").read_text()
# v2: a check after 补正材料, the last step renamed; v3: the review step replaced
WITH_CHECK = TIMERS.replace(
    '<bpmn:sequenceFlow id="f7" sourceRef="supplement" targetRef="final"/>',
    '<bpmn:sequenceFlow id="f7" sourceRef="supplement" targetRef="check"/>'
    '<bpmn:userTask id="check" name="复核" camunda:candidateGroups="window"/>'
    '<bpmn:sequenceFlow id="f9" sourceRef="check" targetRef="final"/>').replace('name="办结"', 'name="办结发证"')
NO_REVIEW = TIMERS.replace('id="review"', 'id="review2"').replace('attachedToRef="review"', 'attachedToRef="review2"') \
    .replace('sourceRef="review"', 'sourceRef="review2"').replace('targetRef="review"', 'targetRef="review2"')


@pytest.fixture
def mv(h, tmp_path):
    clock.freeze(MONDAY)
    h.clerk = h.user("clerk", groups=["window"])
    h.coord = h.user("coord", groups=["coord"], roles=["staff", "coordinator"])
    h.owner = h.user("owner", roles=["process_owner"])
    h.deploy(DIAGRAMS / "timers.bpmn")

    def deploy(text, name="timers.bpmn", *more):
        """Deploy `text` as file `name` (and more (name, text) files beside it)."""
        paths = []
        for n, t in ((name, text), *more):
            paths.append(tmp_path / n)
            paths[-1].write_text(t)
        return h.deploy(*paths)

    h.deploy_text = deploy
    return h


def review_dropped(h):
    """(a case at review, a case past it) on version 1, and version 2 without review."""
    at_review = h.hall.runtime.start(h.clerk, "timers", {})
    past_review = h.hall.runtime.start(h.clerk, "timers", {})
    h.complete(h.clerk, past_review.id, "review")
    h.deploy_text(NO_REVIEW)
    return at_review, past_review


def at(h, case_id):
    return sorted(t.element_id for t in h.open_tasks(case_id))


def test_a_dry_run_says_which_cases_can_move_and_the_move_keeps_their_tasks_and_timers(mv):
    h = mv
    a = h.hall.runtime.start(h.clerk, "timers", {})
    [review] = h.open_tasks(a.id)
    h.hall.tasks.claim(h.clerk, review.id)
    b = h.hall.runtime.start(h.clerk, "timers", {})
    h.complete(h.clerk, b.id, "review")  # b waits a day at "wait"
    v2 = h.deploy_text(WITH_CHECK)
    plan = h.hall.moves.dry_run(h.owner, "timers")
    assert (plan["to_version"], plan["total"], plan["movable"], plan["reasons"]) == (v2.version, 2, 2, [])
    assert [c["number"] for c in plan["cases"]] == [a.number, b.number]

    move = h.hall.moves.start(h.owner, "timers", from_version=1)
    assert (move["status"], move["total"], move["pending"]) == ("running", 2, 2)
    assert h.hall.runtime.case(a.id).version == 1  # the workers move them
    assert h.hall.moves.work() == 2
    move = h.hall.moves.view(h.owner, move["id"])
    assert (move["status"], move["moved"], move["pending"]) == ("done", 2, 0) and move["finished_at"] == MONDAY

    case = h.hall.runtime.case(a.id)
    assert (case.version, case.version_id) == (2, v2.id)
    [kept] = h.open_tasks(a.id)
    assert (kept.id, kept.assignee_id, kept.due_at) == (review.id, h.clerk.id, review.due_at)  # same task, same holder
    [moved] = [e for e in h.hall.runtime.events(a.id) if e.action == "moved"]
    assert (moved.actor, moved.detail) == ("owner", {"from_version": 1, "to_version": 2, "move": move["id"]})
    assert h.hall.runtime.case(b.id).next_timer_at == MONDAY + dt.timedelta(days=1)  # its wait kept its time
    clock.advance(dt.timedelta(hours=1, minutes=1))  # the reminder armed on version 1 falls due when it did
    h.hall.runtime.fire_due_timers()
    assert at(h, a.id) == ["review", "urge"]
    h.complete(h.clerk, a.id, "review")
    clock.advance(dt.timedelta(days=1, minutes=1))
    h.hall.runtime.fire_due_timers()
    h.hall.runtime.message(h.clerk, a.id, "补正材料", {})
    assert at(h, a.id) == ["check", "urge"]  # version 2's path

    h.hall.runtime.message(h.clerk, b.id, "补正材料", {})
    h.complete(h.clerk, b.id, "check")
    [final] = h.open_tasks(b.id)
    assert (final.element_id, final.name) == ("final", "办结发证")
    h.complete(h.clerk, b.id, "final")
    assert h.hall.runtime.case(b.id).status == "completed"


def test_a_case_at_an_element_the_new_version_lacks_stays_and_says_why(mv):
    h = mv
    at_review, past_review = review_dropped(h)
    plan = h.hall.moves.dry_run(h.owner, "timers")
    assert (plan["total"], plan["movable"]) == (2, 1)
    blocked = {c["number"]: c for c in plan["cases"]}[at_review.number]
    assert not blocked["movable"] and blocked["reasons"] == ["element review (审查) is not in version 2"]
    assert plan["reasons"][0]["cases"] == 1
    move = h.hall.moves.start(h.owner, "timers")
    assert (move["pending"], move["skipped"]) == (1, 1)
    h.hall.moves.work()
    rows, total = h.hall.moves.items(h.owner, move["id"])
    assert total == 2
    fared = {r.number: (r.status, r.reason) for r in rows}
    assert fared[past_review.number] == ("moved", None)
    assert fared[at_review.number][0] == "skipped" and "review (审查)" in fared[at_review.number][1]
    assert h.hall.runtime.case(at_review.id).version == 1 and at(h, at_review.id) == ["review"]  # untouched
    assert h.hall.runtime.case(past_review.id).version == 2
    assert h.hall.moves.view(h.owner, move["id"])["status"] == "done"


def test_a_changed_form_keeps_a_case_whose_task_is_open_there(mv):
    h = mv
    form = (DIAGRAMS / "form_task.bpmn").read_text()
    h.deploy(DIAGRAMS / "form_task.bpmn")
    pid = next(p["process_id"] for p in h.hall.repository.processes() if p["process_id"] != "timers")
    case = h.hall.runtime.start(h.clerk, pid, {"company": "甲公司", "capital": 100})
    changed = form.replace('id="pages" label="材料页数" type="long"', 'id="pages" label="材料页数" type="string"')
    assert changed != form
    h.deploy_text(changed, "form_task.bpmn")
    plan = h.hall.moves.dry_run(h.owner, pid)
    [c] = plan["cases"]
    assert c["number"] == case.number and not c["movable"]
    assert any(r.startswith("the form of") for r in c["reasons"])


def test_choosing_cases_by_version_element_or_number(mv):
    h = mv
    one = h.hall.runtime.start(h.clerk, "timers", {})
    h.deploy_text(TIMERS.replace('name="办结"', 'name="办结1"'))
    two = h.hall.runtime.start(h.clerk, "timers", {})  # on version 2
    h.complete(h.clerk, two.id, "review")
    h.deploy_text(WITH_CHECK)
    assert h.hall.moves.dry_run(h.owner, "timers")["total"] == 2
    assert [c["number"] for c in h.hall.moves.dry_run(h.owner, "timers", from_version=2)["cases"]] == [two.number]
    assert [c["number"] for c in h.hall.moves.dry_run(h.owner, "timers", element="review")["cases"]] == [one.number]
    assert [c["number"] for c in h.hall.moves.dry_run(h.owner, "timers", numbers=[two.number])["cases"]] == \
        [two.number]
    assert h.hall.moves.dry_run(h.owner, "timers", to_version=2)["total"] == 1  # back to 2: only version 1's
    with pytest.raises(Invalid) as e:
        h.hall.moves.start(h.owner, "timers", numbers=["NONE-1"])
    assert "cases" in e.value.extra["errors"]


def test_only_process_owners_move_cases_and_bad_choices_are_refused(mv):
    h = mv
    h.hall.runtime.start(h.clerk, "timers", {})
    h.deploy_text(WITH_CHECK)
    for who in (h.clerk, h.coord):
        with pytest.raises(Forbidden):
            h.hall.moves.dry_run(who, "timers")
        with pytest.raises(Forbidden):
            h.hall.moves.start(who, "timers")
    with pytest.raises(NotFound):
        h.hall.moves.dry_run(h.owner, "nope")
    with pytest.raises(NotFound):
        h.hall.moves.dry_run(h.owner, "timers", to_version=9)
    for bad in ({"to_version": "2"}, {"from_version": 0}, {"from_version": 2}, {"element": "x" * 129},
                {"numbers": "T-1"}, {"numbers": ["x"] * (moves.MAX_NAMED + 1)}):
        with pytest.raises(Invalid):
            h.hall.moves.dry_run(h.owner, "timers", **bad)
    assert h.hall.moves.listing(h.owner) == []  # nothing half made


def test_a_move_is_paused_resumed_and_cancelled(mv):
    h = mv
    cases = [h.hall.runtime.start(h.clerk, "timers", {}) for _ in range(3)]
    h.deploy_text(WITH_CHECK)
    move = h.hall.moves.start(h.owner, "timers")
    assert h.hall.moves.pause(h.owner, move["id"])["status"] == "paused"
    with pytest.raises(Conflict):
        h.hall.moves.pause(h.owner, move["id"])
    assert h.hall.moves.work() == 0  # a paused move waits
    assert h.hall.moves.resume(h.owner, move["id"])["status"] == "running"
    # one case moves, then the move is cancelled: the rest stay where they are
    first = h.hall.moves._take()[:1]
    h.hall.moves._move(first[0])
    shown = h.hall.moves.cancel(h.owner, move["id"])
    assert (shown["status"], shown["moved"], shown["skipped"], shown["pending"]) == ("cancelled", 1, 2, 0)
    assert sorted(h.hall.runtime.case(c.id).version for c in cases) == [1, 1, 2]
    with pytest.raises(Conflict):
        h.hall.moves.resume(h.owner, move["id"])
    assert h.hall.moves.work() == 0
    [listed] = h.hall.moves.listing(h.owner, "timers")
    assert listed["id"] == move["id"] and listed["status"] == "cancelled"


def test_cases_a_stopped_worker_held_are_taken_by_the_next_after_its_lease(mv):
    h = mv
    case = h.hall.runtime.start(h.clerk, "timers", {})
    h.deploy_text(WITH_CHECK)
    h.hall.moves.start(h.owner, "timers")
    assert len(h.hall.moves._take()) == 1  # a worker takes it, then stops
    assert h.hall.moves.work() == 0  # held for it
    clock.advance(moves.LEASE + dt.timedelta(seconds=1))
    assert h.hall.moves.work() == 1
    assert h.hall.runtime.case(case.id).version == 2


def test_a_suspended_case_moves_and_stays_suspended_and_an_ended_one_is_skipped(mv):
    h = mv
    held = h.hall.runtime.start(h.clerk, "timers", {})
    ended = h.hall.runtime.start(h.clerk, "timers", {})
    h.hall.runtime.suspend(h.coord, held.id, "待核查")
    h.deploy_text(WITH_CHECK)
    move = h.hall.moves.start(h.owner, "timers")
    h.hall.runtime.terminate(h.coord, ended.id, "企业注销")
    h.hall.moves.work()
    case = h.hall.runtime.case(held.id)
    assert case.version == 2 and case.suspended_at is not None
    rows, _ = h.hall.moves.items(h.owner, move["id"], status="skipped")
    assert [(r.number, "terminated" in r.reason) for r in rows] == [(ended.number, True)]


def test_parallel_branches_keep_their_tasks_and_a_finished_branch_its_history(mv):
    h = mv
    h.deploy(DIAGRAMS / "parallel5.bpmn")
    case = h.hall.runtime.start(h.clerk, "parallel5", {})
    h.complete(h.clerk, case.id, "accept")
    gs = h.user("gs", groups=["gs"])
    h.complete(gs, case.id, "r1")
    before = {t.element_id: t.id for t in h.open_tasks(case.id)}
    text = (DIAGRAMS / "parallel5.bpmn").read_text().replace('name="办结"', 'name="审批办结"')
    h.deploy_text(text, "parallel5.bpmn")
    h.hall.moves.start(h.owner, "parallel5")
    assert h.hall.moves.work() == 1
    assert h.hall.runtime.case(case.id).version == 2
    assert {t.element_id: t.id for t in h.open_tasks(case.id)} == before
    for element, group in (("r2", "gt"), ("r3", "dt"), ("r4", "zj")):
        h.complete(h.user(group, groups=[group]), case.id, element)
    [decide] = h.open_tasks(case.id)
    assert decide.name == "审批办结"


def test_a_case_inside_a_called_process_moves_with_it(mv):
    h = mv
    h.deploy(DIAGRAMS / "caller.bpmn", DIAGRAMS / "called.bpmn")
    police = h.user("police", groups=["公安"])
    case = h.hall.runtime.start(h.clerk, "caller", {})
    [engrave] = h.open_tasks(case.id)
    caller = (DIAGRAMS / "caller.bpmn").read_text().replace('name="办结"', 'name="办结归档"')
    h.deploy_text(caller, "caller.bpmn", ("called.bpmn", (DIAGRAMS / "called.bpmn").read_text()))
    move = h.hall.moves.start(h.owner, "caller")
    h.hall.moves.work()
    assert h.hall.moves.view(h.owner, move["id"])["moved"] == 1
    [same] = h.open_tasks(case.id)
    assert same.id == engrave.id
    h.complete(police, case.id, "engrave", {"problem": False})
    [finish] = h.open_tasks(case.id)
    assert finish.name == "办结归档"


def test_items_are_listed_by_status(mv):
    h = mv
    h.hall.runtime.start(h.clerk, "timers", {})
    h.deploy_text(WITH_CHECK)
    move = h.hall.moves.start(h.owner, "timers")
    with pytest.raises(Invalid):
        h.hall.moves.items(h.owner, move["id"], status="gone")
    h.hall.moves.work()
    rows, total = h.hall.moves.items(h.owner, move["id"], status="moved")
    assert total == 1 and rows[0].version == 2
    assert h.hall.session.scalar(sa.select(sa.func.count()).select_from(CaseMoveItem)) == 1


def test_the_api_dry_runs_starts_watches_and_steers_a_move(mv):
    h = mv
    case = h.hall.runtime.start(h.clerk, "timers", {})
    h.deploy_text(WITH_CHECK)
    owner, clerk = h.token("owner"), h.token("clerk")
    r = h.client.post("/api/v1/moves/dry-run", json={"process_id": "timers", "from_version": 1}, headers=owner)
    assert r.status_code == 200, r.get_json()
    body = r.get_json()
    assert (body["total"], body["movable"], body["cases"][0]["number"]) == (1, 1, case.number)
    assert h.client.post("/api/v1/moves/dry-run", json={"process_id": "timers"}, headers=clerk).status_code == 403
    for bad, field in (({"process_id": ""}, "process_id"), ({"process_id": "timers", "to_version": "x"}, "to_version"),
                       ({"process_id": "timers", "cases": []}, "cases"),
                       ({"process_id": "timers", "from_version": 2}, "from_version")):
        r = h.client.post("/api/v1/moves", json=bad, headers=owner)
        assert r.status_code == 422 and field in str(r.get_json()), r.get_json()
    assert h.client.post("/api/v1/moves", json={"process_id": "timers", "to_version": 9},
                         headers=owner).status_code == 404
    r = h.client.post("/api/v1/moves", json={"process_id": "timers"}, headers=owner)
    assert r.status_code == 202, r.get_json()
    move = r.get_json()
    assert (move["status"], move["pending"], move["to_version"]) == ("running", 1, 2)
    assert h.client.post(f"/api/v1/moves/{move['id']}/pause", headers=owner).get_json()["status"] == "paused"
    assert h.client.post(f"/api/v1/moves/{move['id']}/pause", headers=owner).status_code == 409
    assert h.client.post(f"/api/v1/moves/{move['id']}/resume", headers=owner).get_json()["status"] == "running"
    h.hall.moves.work()
    shown = h.client.get(f"/api/v1/moves/{move['id']}", headers=owner).get_json()
    assert (shown["status"], shown["moved"]) == ("done", 1)
    r = h.client.get(f"/api/v1/moves/{move['id']}/cases?status=moved", headers=owner)
    assert [(c["number"], c["version"], c["status"]) for c in r.get_json()] == [(case.number, 2, "moved")]
    assert h.client.get(f"/api/v1/moves/{move['id']}/cases?status=gone", headers=owner).status_code == 422
    assert [m["id"] for m in h.client.get("/api/v1/moves?process_id=timers", headers=owner).get_json()] == [move["id"]]
    assert h.client.get(f"/api/v1/moves/{move['id']}", headers=clerk).status_code == 403
    assert h.client.get("/api/v1/moves/999", headers=owner).status_code == 404
    assert h.client.post(f"/api/v1/moves/{move['id']}/cancel", headers=owner).status_code == 409  # done
    [event] = [e for e in h.client.get(f"/api/v1/cases/{case.id}", headers=owner).get_json()["events"]
               if e["action"] == "moved"]
    assert event["detail"] == {"from_version": 1, "to_version": 2, "move": move["id"]}


def test_a_case_whose_step_failed_moves_to_the_corrected_version_and_its_incident_is_retried(h, tmp_path):
    from tests import test_incidents

    clock.freeze(test_incidents.MONDAY)
    clerk, keeper = h.user("clerk", groups=["window"]), h.user("keeper", roles=["process_owner"])
    h.deploy(DIAGRAMS / "failing_timer.bpmn")
    case = h.hall.runtime.start(clerk, "failing_timer", {"total": 10, "parts": 0})
    other = h.hall.runtime.start(clerk, "failing_timer", {"total": 10, "parts": 2})  # not failing: left be
    test_incidents.fire_at(h, test_incidents.MONDAY + dt.timedelta(hours=1, seconds=1))
    [incident] = h.hall.incidents.listing(keeper)
    fixed = tmp_path / "failing_timer.bpmn"
    fixed.write_text((DIAGRAMS / "failing_timer.bpmn").read_text().replace(
        "each = total / parts", "each = total / parts if parts else total"))
    h.deploy(fixed)
    plan = h.hall.moves.dry_run(keeper, "failing_timer", element="share")  # the cases whose incident is there
    assert [c["number"] for c in plan["cases"]] == [case.number]
    h.hall.moves.start(keeper, "failing_timer", element="share")
    h.hall.moves.work()
    assert (h.hall.runtime.case(case.id).version, h.hall.runtime.case(other.id).version) == (2, 1)
    h.hall.incidents.retry(keeper, incident.Incident.id)
    h.hall.runtime.fire_due_timers()
    assert at(h, case.id) == ["review"] and h.hall.runtime.case(case.id).data["each"] == 10
    assert h.hall.incidents.counts() == {}
