"""An admin manages users on the pages: creates one, changes roles and groups, deactivates
(their tasks listed), resets a password; everyone changes their own password."""

from tests import test_admin
from tests.conftest import DIAGRAMS
from tests.ui import test_pages as pages
from tests.ui.test_pages import doc, flashes, text
from tests.ui.test_supervision_pages import flashes_of

browse = pages.browse
admin = test_admin.admin  # an admin (root) and a clerk of the group window


def test_an_admin_creates_changes_and_deactivates_a_user(admin, browse):
    h = admin
    assert browse("clerk").get("/admin/users").status_code == 403
    web = browse("root")
    assert "clerk" in text(doc(web.get("/admin/users")).xpath("//table[contains(@class,'users')]")[0])
    r = web.post("/admin/users/new", {"username": "li si", "password": "short", "display_name": "李四"})
    assert r.status_code == 422
    page = doc(r)
    assert text(page.xpath("//input[@name='username']/following-sibling::span[@class='field-error']")[0]) == \
        "用户名为 1 至 64 个字母、数字或 . _ -"
    assert page.xpath("//input[@name='display_name']/@value") == ["李四"]  # nothing typed is lost
    r = web.post("/admin/users/new", {"username": "lisi", "password": "long-enough", "display_name": "李四",
                                      "roles": ["staff"], "groups": "内资窗口\n管理办"})
    assert r.status_code == 302 and "已创建用户 lisi" in flashes(web.get(r.headers["Location"]))
    assert h.hall.identity.user("lisi").group_names == ["内资窗口", "管理办"]
    web.post("/admin/users/lisi", {"action": "save", "display_name": "李四", "roles": ["staff", "coordinator"],
                                   "groups": "内资窗口"})
    user = h.hall.identity.user("lisi")
    assert user.role_set == {"staff", "coordinator"} and user.group_names == ["内资窗口"]
    h.deploy(DIAGRAMS / "form_task.bpmn")
    case = h.hall.runtime.start(h.clerk, "form_task", {"company": "甲公司"})
    h.hall.tasks.claim(h.clerk, h.open_tasks(case.id)[0].id)
    r = web.post("/admin/users/clerk", {"action": "deactivate"})
    page = doc(web.get(r.headers["Location"]))
    assert "已停用，其办理中的任务见下方，请交给他人" in " ".join(flashes_of(page))
    assert case.number in text(page.xpath("//ul[@class='held-tasks']")[0])
    assert browse_fails(web.app, "clerk")
    r = web.post("/admin/users/root", {"action": "deactivate"})
    assert "不能停用自己的账户" in flashes(web.get(r.headers["Location"]))
    r = web.post("/admin/users/lisi", {"action": "password", "password": "x"})
    assert r.status_code == 422 and "密码为 8 至 128 个字符" in text(doc(r))
    web.post("/admin/users/lisi", {"action": "password", "password": "brand-new-1"})
    audit = [text(td) for td in doc(web.get("/admin/users/lisi")).xpath("//table[contains(@class,'audit')]//tr/td[3]")]
    assert audit == ["重置密码", "修改", "创建"]


def test_a_person_changes_their_own_password(admin, browse):
    web = browse("clerk")
    r = web.post("/account/password", {"current": "pw", "password": "new-secret-1", "password2": "other"})
    assert r.status_code == 422 and "两次输入的密码不一致" in text(doc(r))
    r = web.post("/account/password", {"current": "wrong", "password": "new-secret-1", "password2": "new-secret-1"})
    assert r.status_code == 422 and "当前密码不正确" in text(doc(r))
    r = web.post("/account/password", {"current": "pw", "password": "new-secret-1", "password2": "new-secret-1"})
    assert r.status_code == 302
    assert browse("clerk", "new-secret-1").get("/inbox").status_code == 200


def browse_fails(app, username) -> bool:
    web = pages.Web(app)
    return web.login(username).status_code == 401
