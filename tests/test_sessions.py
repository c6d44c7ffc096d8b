"""Sessions and tokens that end: signing out, a new password and deactivation end them at
once, on the server; wrong passwords are throttled by account and by address."""

from __future__ import annotations

import datetime as dt

from engine import clock, identity
from tests.ui import test_pages as pages

browse = pages.browse


def token(client, username, password="pw", address="10.0.0.1"):
    return client.post("/api/v1/auth/token", json={"username": username, "password": password},
                       environ_base={"REMOTE_ADDR": address})


def test_a_signed_out_token_is_dead_at_once(client, h):
    h.user("ann", groups=["申请人"], roles=["applicant"])
    t = token(client, "ann").get_json()["token"]
    auth = {"Authorization": f"Bearer {t}"}
    assert client.get("/api/v1/cases", headers=auth).status_code == 200
    assert client.delete("/api/v1/auth/token", headers=auth).status_code == 204
    assert client.get("/api/v1/cases", headers=auth).status_code == 401
    assert client.delete("/api/v1/auth/token", headers=auth).status_code == 401


def test_a_new_password_or_deactivation_ends_every_session_and_token(app, client, h, browse):
    h.user("ann", groups=["申请人"], roles=["applicant"])
    h.user("bob", groups=["申请人"], roles=["applicant"])
    web = browse("ann")
    auth = {"Authorization": f"Bearer {token(client, 'ann').get_json()['token']}"}
    assert web.get("/cases").status_code == 200 and client.get("/api/v1/cases", headers=auth).status_code == 200
    h.hall.identity.create_user("ann", "new-pw", ["申请人"], ["applicant"], update=True)
    assert client.get("/api/v1/cases", headers=auth).status_code == 401
    assert web.get("/cases").status_code == 302  # back to sign-in
    bob_web = browse("bob")
    bob = {"Authorization": f"Bearer {token(client, 'bob').get_json()['token']}"}
    runner = app.test_cli_runner()
    assert runner.invoke(args=["users", "deactivate", "bob"]).exit_code == 0
    assert client.get("/api/v1/cases", headers=bob).status_code == 401
    assert bob_web.get("/cases").status_code == 302
    assert token(client, "bob").status_code == 401
    assert runner.invoke(args=["users", "activate", "bob"]).exit_code == 0
    assert token(client, "bob").status_code == 200


def test_a_signed_out_page_session_is_dead_even_with_its_old_cookie(app, h, browse):
    h.user("clerk", groups=["window"])
    web = browse("clerk")
    cookie = web.client.get_cookie("session")
    assert web.get("/inbox").status_code == 200
    web.post("/logout", {})
    assert web.get("/inbox").status_code == 302
    replay = app.test_client()
    replay.set_cookie("session", cookie.value)  # the cookie the browser had before signing out
    assert replay.get("/inbox").status_code == 302


def test_wrong_passwords_are_throttled_by_account_and_by_address(app, client, h):
    h.user("ann", groups=["申请人"], roles=["applicant"])
    h.user("bob", groups=["申请人"], roles=["applicant"])
    for _ in range(identity.ACCOUNT_FAILURES):
        assert token(client, "ann", "guess").status_code == 401
    r = token(client, "ann")  # the right password, but too late
    assert r.status_code == 429 and int(r.headers["Retry-After"]) > 0
    assert token(client, "bob", address="10.0.0.9").status_code == 200  # another account is not held up
    page = pages.Web(app).login("ann")
    assert page.status_code == 429 and "登录失败次数过多" in page.text  # the pages count the same failures
    clock.advance(identity.THROTTLE_WINDOW + dt.timedelta(seconds=1))
    assert token(client, "ann").status_code == 200
    # from one address, across accounts
    for i in range(identity.ADDRESS_FAILURES):
        token(client, f"nobody{i}", "guess", address="10.6.6.6")
    assert token(client, "bob", address="10.6.6.6").status_code == 429
    assert token(client, "bob", address="10.0.0.2").status_code == 200
