"""Browser tests: the app served on a local port, Debian's Chromium driven by Playwright.

These run on SQLite only (they test pages, not the database: see tests/conftest.py)."""

from __future__ import annotations

import os
import re
import threading

import pytest
from werkzeug.serving import make_server

CHROMIUM = os.environ.get("HALL_CHROMIUM", "/usr/bin/chromium")


@pytest.fixture
def live_server(app):
    """The test app served on 127.0.0.1 (a free port) in a thread; yields its base URL."""
    app.config["WTF_CSRF_ENABLED"] = True
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(5)


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=[
            "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
            "--disable-component-update", "--disable-sync", "--no-first-run"])
        yield b
        b.close()


@pytest.fixture
def page(browser, live_server):
    context = browser.new_context(viewport={"width": 1400, "height": 900}, locale="zh-CN", base_url=live_server)
    pg = context.new_page()
    pg.set_default_timeout(15_000)
    yield pg
    context.close()


def sign_in(page, username: str, password: str = "pw") -> None:
    page.goto("/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")
    page.wait_for_url(re.compile(r".*/(inbox|cases|portal)$"))
