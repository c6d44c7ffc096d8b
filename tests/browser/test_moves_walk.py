"""A process owner moves running cases to a corrected version in a real browser: from 流程模型
to 迁移办件, the dry run (one case cannot move, and says why), the move started and watched till
it is done; the moved case's page shows the new version and the move in its history."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from tests import test_moves
from tests.browser.conftest import sign_in

mv = test_moves.mv


def test_a_process_owner_moves_running_cases_and_watches_the_move(mv, page):
    h = mv
    at_review, past = test_moves.review_dropped(h)
    sign_in(page, "owner")
    page.goto("/models")
    page.locator("#process-timers").get_by_role("link", name="迁移办件").click()
    page.get_by_role("button", name="预演").click()
    dry = page.locator("#dry-run")
    expect(dry.locator("[data-figure=movable]")).to_have_text("1")
    expect(dry.locator(f"tr[data-case='{at_review.number}']")).to_contain_text("环节 review (审查) 在版本 2 中已不存在")
    page.get_by_role("button", name="开始迁移 1 件").click()
    expect(page.locator(".flash, .flashes").first).to_contain_text("迁移已开始：1 件待迁移，1 件不能迁移")
    expect(page.locator("h1")).to_contain_text("迁移中")
    h.hall.moves.work()  # what the scheduler does in the server
    page.wait_for_url(re.compile(r".*/models/moves/\d+$"))
    expect(page.locator("h1")).to_contain_text("已完成", timeout=10_000)  # the page refreshes itself while it runs
    expect(page.locator("[data-figure=moved]")).to_have_text("1")
    page.locator(f"tr[data-case='{past.number}']").get_by_role("link").click()
    expect(page.locator("h1")).to_contain_text(past.number)
    expect(page.locator("body")).to_contain_text("迁移到新版本")
    expect(page.locator("body")).to_contain_text("v1 → v2")
    assert h.hall.runtime.case(past.id).version == 2
