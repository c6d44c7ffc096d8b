"""A coordinator suspends (挂起), activates again (恢复办理) and terminates (终止) a case from its
page; a clerk cannot work its task meanwhile."""

from tests import test_incidents, test_moves, test_operations
from tests.ui import test_pages as pages
from tests.ui.test_pages import doc, flashes, text
from tests.ui.test_supervision_pages import flashes_of

browse = pages.browse
ops = test_operations.ops  # a running case of the timers diagram, a clerk and a coordinator


def test_a_coordinator_suspends_activates_and_terminates_a_case_from_its_page(ops, browse):
    h = ops
    url = f"/cases/{h.case.id}"
    assert not doc(browse("clerk").get(url)).xpath("//section[contains(@class,'case-hold')]")
    assert browse("clerk").post(f"{url}/suspend", {"reason": "x"}).status_code == 403  # not theirs
    assert h.hall.runtime.case(h.case.id).suspended_at is None
    web = browse("coord")
    r = web.post(f"{url}/suspend", {"reason": ""})
    assert "须写明理由" in flashes(web.get(r.headers["Location"]))
    r = web.post(f"{url}/suspend", {"reason": "待公安核查身份"})
    page = doc(web.get(r.headers["Location"]))
    assert "办件已挂起" in flashes_of(page)
    assert "已挂起：待公安核查身份" in text(page.xpath("//div[@class='page-head']")[0])
    [task] = h.open_tasks(h.case.id)
    clerk = browse("clerk")
    r = clerk.post(f"/tasks/{task.id}", {})
    assert r.status_code == 409 and f"办件 {h.case.number} 已挂起，恢复办理前不能办理" in text(doc(r))
    r = web.post(f"{url}/activate")
    assert "办件已恢复办理" in flashes(web.get(r.headers["Location"]))
    r = web.post(f"{url}/terminate", {"reason": "重复申报"})
    page = doc(web.get(r.headers["Location"]))
    assert "已终止" in text(page.xpath("//h1")[0]) and not page.xpath("//section[contains(@class,'case-hold')]")
    assert "重复申报" in text(page)  # in its history


failing = test_incidents.failing  # a case of failing_timer, a clerk and a process owner (keeper)


def test_a_process_owner_sees_the_incident_and_corrects_the_data_from_the_pages(failing, browse):
    import datetime as dt

    h = failing
    test_incidents.fire_at(h, test_incidents.MONDAY + dt.timedelta(hours=1, seconds=1))
    web = browse("keeper")
    models = doc(web.get("/models"))
    assert "1 个异常待处理" in text(models.xpath("//section[@id='process-failing_timer']//h2")[0])
    page = doc(web.get("/models/incidents"))
    [card] = page.xpath("//section[contains(@class,'incident')]")
    assert h.case.number in text(card) and "ZeroDivisionError" in text(card) and "自动重试中" in text(card)
    case_page = doc(browse("clerk").get(f"/cases/{h.case.id}"))
    assert "ZeroDivisionError" in text(case_page.xpath("//div[contains(@class,'incident')]")[0])
    assert not case_page.xpath("//div[contains(@class,'incident-actions')]")  # the clerk reads; the owner acts
    action = card.xpath(".//form[contains(@action,'/correct')]/@action")[0]
    r = web.post(action, {"data": "parts = 2", "reason": "按两个部门分摊", "next": "https://evil.example/"})
    assert r.headers["Location"] == "/models/incidents"  # never off the site
    assert "数据已更正，办件继续办理" in flashes(web.get("/models/incidents"))
    assert h.hall.runtime.case(h.case.id).data["each"] == 5
    assert browse("clerk").get("/models/incidents").status_code == 403


mv = test_moves.mv  # the timers diagram, a clerk, a coordinator and a process owner


def test_a_process_owner_moves_cases_to_a_new_version_from_the_pages(mv, browse):
    h = mv
    at_review, past = test_moves.review_dropped(h)
    web = browse("owner")
    models = doc(web.get("/models"))
    [link] = models.xpath("//section[@id='process-timers']//a[contains(@href,'/moves')]/@href")
    page = doc(web.get(link))
    assert page.xpath("//form[@id='move-choice']")
    page = doc(web.get(f"{link}?dry=1&to_version=2&from_version="))
    figures = {dd.get("data-figure"): text(dd) for dd in page.xpath("//section[@id='dry-run']//dd")}
    assert figures == {"total": "2", "movable": "1", "blocked": "1"}
    row = text(page.xpath(f"//tr[@data-case='{at_review.number}']")[0])
    assert "不能迁移" in row and "环节 review (审查) 在版本 2 中已不存在" in row
    [start] = page.xpath("//section[@id='dry-run']//form[@method='post']")
    fields = {i.get("name"): i.get("value") or "" for i in start.xpath(".//input")}
    r = web.post(start.get("action"), fields)
    assert r.status_code == 302 and "/models/moves/" in r.headers["Location"]
    move_page = web.get(r.headers["Location"])
    assert "迁移已开始：1 件待迁移，1 件不能迁移" in flashes(move_page)
    assert '<meta http-equiv="refresh"' in move_page.text  # watched while it runs
    h.hall.moves.work()
    page = doc(web.get(r.headers["Location"]))
    assert {dd.get("data-figure"): text(dd) for dd in page.xpath("//dd")} == \
        {"total": "2", "moved": "1", "pending": "0", "skipped": "1", "failed": "0"}
    assert "已迁移" in text(page.xpath(f"//tr[@data-case='{past.number}']")[0])
    assert h.hall.runtime.case(past.id).version == 2
    assert browse("clerk").get(link).status_code == 403
    assert browse("clerk").get(r.headers["Location"]).status_code == 403


def test_a_move_is_paused_and_cancelled_from_its_page(mv, browse):
    h = mv
    h.hall.runtime.start(h.clerk, "timers", {})
    h.deploy_text(test_moves.WITH_CHECK)
    move = h.hall.moves.start(h.owner, "timers")
    web = browse("owner")
    url = f"/models/moves/{move['id']}"
    r = web.post(f"{url}/pause")
    assert "迁移已暂停" in flashes(web.get(r.headers["Location"]))
    r = web.post(f"{url}/pause")
    assert flashes(web.get(r.headers["Location"])) == [f"迁移批次 {move['id']} 当前不能这样操作"]
    r = web.post(f"{url}/cancel")
    page = web.get(r.headers["Location"])
    assert "迁移已取消，未迁移的办件留在原版本" in flashes(page) and '<meta http-equiv="refresh"' not in page.text
    assert h.hall.moves.view(h.owner, move["id"])["skipped"] == 1
    r = web.post("/models/timers/moves", {"cases": "NONE-1"})
    assert "没有选中其他版本的在办办件" in flashes(web.get(r.headers["Location"]))
