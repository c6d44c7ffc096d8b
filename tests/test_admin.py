"""User and group administration: an admin creates, changes, deactivates users and resets
passwords, each change in the audit trail; a deactivated user's sessions and tokens stop at
once and the tasks they hold are listed for others; a user changes their own password."""

import pytest

from engine.errors import Conflict, Forbidden, Invalid, NotFound
from tests.conftest import DIAGRAMS


@pytest.fixture
def admin(h):
    h.admin = h.user("root", roles=["admin"])
    h.clerk = h.user("clerk", groups=["window"])
    return h


def test_an_admin_creates_and_changes_users_and_each_change_is_audited(admin):
    h = admin
    ids = h.hall.identity
    with pytest.raises(Forbidden):
        ids.save_user(h.clerk, "li", password="long-enough", new=True)
    user = ids.save_user(h.admin, "li", display_name="内资窗口 李", roles=["staff"], groups=["内资窗口"],
                         password="long-enough", new=True)
    assert (user.role_set, user.group_names) == ({"staff"}, ["内资窗口"])
    assert ids.authenticate("li", "long-enough") is not None
    with pytest.raises(Conflict):
        ids.save_user(h.admin, "li", password="long-enough", new=True)
    ids.save_user(h.admin, "li", roles=["staff", "coordinator"])  # what is left out stays
    user = ids.user("li")
    assert (user.role_set, user.group_names) == ({"staff", "coordinator"}, ["内资窗口"])
    assert user.display_name == "内资窗口 李"
    with pytest.raises(NotFound):
        ids.save_user(h.admin, "nobody", roles=["staff"])
    audit = ids.audit(h.admin, "li")
    assert [(a.action, a.actor) for a in audit] == [("user_changed", "root"), ("user_created", "root")]
    assert audit[0].detail == {"roles": "staff,coordinator"}  # what changed, only


@pytest.mark.parametrize("kw, field", [
    ({"username": "李 四"}, "username"),
    ({"username": ""}, "username"),
    ({"roles": ["boss"]}, "roles"),
    ({"password": "short"}, "password"),
    ({"password": None}, "password"),
    ({"display_name": "长" * 129}, "display_name"),
    ({"groups": ["g" * 65]}, "groups"),
])
def test_a_bad_user_is_refused_naming_the_field(admin, kw, field):
    h = admin
    args = {"username": "li", "password": "long-enough", **kw}
    with pytest.raises(Invalid) as e:
        h.hall.identity.save_user(h.admin, args.pop("username"), new=True, **args)
    assert field in e.value.extra["errors"]
    with pytest.raises(NotFound):
        h.hall.identity.user("li")


def test_a_deactivated_user_is_out_at_once_and_their_tasks_are_listed(admin, client):
    h = admin
    h.deploy(DIAGRAMS / "form_task.bpmn")
    case = h.hall.runtime.start(h.clerk, "form_task", {"company": "甲公司"})
    [task] = h.open_tasks(case.id)
    h.hall.tasks.claim(h.clerk, task.id)
    headers = h.token("clerk")
    assert client.get("/api/v1/tasks", headers=headers).status_code == 200
    with pytest.raises(Conflict):
        h.hall.identity.set_active_by(h.admin, "root", False)  # not oneself
    held = h.hall.identity.set_active_by(h.admin, "clerk", False)
    assert [(t.id, t.case_number) for t in held] == [(task.id, case.number)]
    assert client.get("/api/v1/tasks", headers=headers).status_code == 401  # at once
    assert h.hall.identity.authenticate("clerk", "pw") is None
    h.hall.identity.set_active_by(h.admin, "clerk", True)
    assert h.hall.identity.authenticate("clerk", "pw") is not None
    assert [a.action for a in h.hall.identity.audit(h.admin, "clerk")] == ["user_activated", "user_deactivated"]


def test_passwords_reset_by_an_admin_and_changed_by_their_owner(admin, client):
    h = admin
    headers = h.token("clerk")
    h.hall.identity.reset_password(h.admin, "clerk", "new-password-1")
    assert client.get("/api/v1/tasks", headers=headers).status_code == 401  # the old sessions end
    assert h.hall.identity.authenticate("clerk", "pw") is None
    with pytest.raises(Invalid) as e:
        h.hall.identity.change_password(h.clerk, "wrong", "new-password-2")
    assert "current" in e.value.extra["errors"]
    h.hall.identity.change_password(h.clerk, "new-password-1", "new-password-2")
    assert h.hall.identity.authenticate("clerk", "new-password-2") is not None
    assert [a.action for a in h.hall.identity.audit(h.admin, "clerk")] == ["password_changed", "password_reset"]


def test_users_and_groups_over_the_api(admin, client):
    h = admin
    root = h.token("root")
    assert client.get("/api/v1/users", headers=h.token("clerk")).status_code == 403
    r = client.post("/api/v1/users", json={"username": "wang", "password": "long-enough", "roles": ["staff"],
                                           "groups": ["外资窗口"], "display_name": "外资窗口 王"}, headers=root)
    assert r.status_code == 201 and r.get_json()["groups"] == ["外资窗口"]
    r = client.post("/api/v1/users", json={"username": "wang2", "password": "short"}, headers=root)
    assert r.status_code == 422 and "password" in r.get_json()["errors"]
    r = client.post("/api/v1/users", json={"username": "wang3", "password": "long-enough", "roles": ["boss"]},
                    headers=root)
    assert r.status_code == 422 and "roles" in r.get_json()["errors"]
    assert client.post("/api/v1/users", json={"username": "wang", "password": "long-enough"},
                       headers=root).status_code == 409
    r = client.patch("/api/v1/users/wang", json={"roles": ["staff", "coordinator"]}, headers=root)
    assert r.get_json()["roles"] == ["coordinator", "staff"]
    r = client.put("/api/v1/users/wang/active", json={"active": False}, headers=root)
    assert r.get_json() == {"username": "wang", "active": False, "held_tasks": []}
    assert client.post("/api/v1/auth/token", json={"username": "wang", "password": "long-enough"}).status_code == 401
    assert client.put("/api/v1/users/clerk/password", json={"password": "another-one"},
                      headers=root).status_code == 204
    r = client.put("/api/v1/auth/password", json={"current": "another-one", "password": "mine-now-9"},
                   headers={"Authorization": "Bearer " + client.post("/api/v1/auth/token", json={
                       "username": "clerk", "password": "another-one"}).get_json()["token"]})
    assert r.status_code == 204
    assert client.post("/api/v1/groups", json={"name": "建设窗口", "label": "建设项目窗口"},
                       headers=root).status_code == 201
    assert {"name": "建设窗口", "label": "建设项目窗口"} in client.get("/api/v1/groups", headers=root).get_json()
    actions = [a["action"] for a in client.get("/api/v1/users/wang/audit", headers=root).get_json()]
    assert actions == ["user_deactivated", "user_changed", "user_created"]
