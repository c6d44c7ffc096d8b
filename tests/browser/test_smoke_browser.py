from tests.browser.conftest import sign_in


def test_sign_in_shows_the_inbox(h, page):
    h.user("clerk", groups=["window"])
    sign_in(page, "clerk")
    assert page.locator("h1").first.inner_text().startswith("我的待办")
