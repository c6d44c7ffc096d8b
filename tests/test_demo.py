import sqlalchemy as sa

from engine.identity import actor_of
from engine.models import Case
from webapp.demo import USERS, load


def test_demo_loads_the_hall_and_can_run_again(hall):
    out = []
    load(out.append)
    assert sorted(p["process_id"] for p in hall.repository.processes()) == [
        "big_project", "enterprise_exit", "green_channel", "joint_review", "parallel_approval"]
    assert {u.username for u in hall.identity.users()} == {u[0] for u in USERS}
    cases = hall.session.scalar(sa.select(sa.func.count()).select_from(Case))
    assert cases >= 7
    # 督办 has late and nearly late work to show
    board = hall.deadlines.dashboard(actor_of(hall.identity.user("xietiao")))
    warnings = {t.warning for tasks in board["groups"].values() for t in tasks}
    assert warnings == {"red", "yellow"}, board
    load(out.append)  # again: nothing doubles
    assert hall.session.scalar(sa.select(sa.func.count()).select_from(Case)) == cases
    assert all(p["latest_version"] == 1 for p in hall.repository.processes())
    qiye = next(u for u in hall.identity.users() if u.username == "qiye")
    assert qiye.role_set == {"applicant"}
