"""Sessions, CSRF and the doors, at the HTTP level against the real daemon.

What a browser would never send (a form without its token, a revoked cookie
replayed, a request on the Unix socket) is sent here with httpx.
"""

from __future__ import annotations

import os

import httpx
import pytest

from tests.support.site import PASSWORD, Site

pytestmark = [
    pytest.mark.skipif(os.geteuid() != 0,
                       reason="needs root to run alice and bob as separate Unix users"),
]


def _csrf(page: str) -> str:
    return page.split('name="csrf" value="', 1)[1].split('"', 1)[0]


def test_a_post_without_its_csrf_token_is_refused_and_changes_nothing(site: Site) -> None:
    with site.login(site.reader.name) as client:
        for form in ({"other": "field"}, {"csrf": "0" * 64}):
            answer = client.post("/ui/logout", data=form)
            assert answer.status_code == 403
            assert "did not come from this dashboard page" in answer.text
        assert client.get("/ui/datasets").status_code == 200  # still logged in

        token = _csrf(client.get("/ui/datasets").text)
        assert client.post("/ui/logout", data={"csrf": token}).status_code == 303


def test_a_login_form_needs_the_token_made_for_this_browser(site: Site) -> None:
    with httpx.Client(base_url=site.url) as browser, httpx.Client(base_url=site.url) as other:
        token = _csrf(browser.get("/ui/login").text)
        other.get("/ui/login")  # another browser: its own nonce cookie
        form = {"csrf": token, "name": site.reader.name, "password": PASSWORD}
        refused = other.post("/ui/login", data=form)
        assert refused.status_code == 403
        assert "ws_session" not in refused.cookies
        assert browser.post("/ui/login", data=form).status_code == 303


def test_a_json_post_is_not_a_form(site: Site) -> None:
    with httpx.Client(base_url=site.url) as client:
        client.get("/ui/login")
        answer = client.post("/ui/login", json={"name": site.reader.name, "password": PASSWORD})
        assert answer.status_code == 400
        assert "ws_session" not in answer.cookies


def test_session_cookie_flags_and_secure_over_tls(site: Site) -> None:
    with site.login(site.reader.name) as client:
        cookie = next(c for c in client.cookies.jar if c.name == "ws_session")
        assert cookie.path == "/ui" and not cookie.secure
    with httpx.Client(base_url=site.url, headers={"X-Forwarded-Proto": "https"}) as tls:
        # what the daemon sees behind a TLS-terminating proxy on this host; the cookies
        # are Secure now, so the client (on plain http) is handed the nonce by hand
        page = tls.get("/ui/login")
        assert "Secure" in page.headers["set-cookie"]
        form = {"csrf": _csrf(page.text), "name": site.reader.name, "password": PASSWORD}
        answer = tls.post("/ui/login", data=form,
                          headers={"Cookie": f"ws_csrf={page.cookies['ws_csrf']}"})
        assert answer.status_code == 303
        header = answer.headers["set-cookie"]
        assert header.startswith("ws_session=")
        assert {"HttpOnly", "Secure", "SameSite=strict", "Path=/ui"} <= {
            part.strip() for part in header.split(";")}


def test_logout_revokes_the_token_not_only_the_cookie(site: Site) -> None:
    with site.login(site.reader.name) as client:
        stolen = client.cookies["ws_session"]
        token = _csrf(client.get("/ui/datasets").text)
        assert client.post("/ui/logout", data={"csrf": token}).status_code == 303
    with httpx.Client(base_url=site.url, cookies={"ws_session": stolen}) as thief:
        answer = thief.get("/ui/datasets")
        assert answer.status_code == 303
        assert answer.headers["location"].startswith("/ui/login")
        # the same token as a bearer on the API is refused too: it was revoked
        api = thief.get("/v1/datasets", headers={"Authorization": f"Bearer {stolen}"})
        assert api.status_code == 401


def test_an_api_token_in_the_cookie_is_not_a_session(site: Site) -> None:
    created = site.daemon.ws_json("token", "create", site.reader.name, "--name", "cookie",
                                  cwd=site.project)
    with httpx.Client(base_url=site.url, cookies={"ws_session": created["token"]}) as client:
        assert client.get("/ui/datasets").status_code == 303
        api = client.get("/v1/datasets", headers={"Authorization": f"Bearer {created['token']}"})
        assert api.status_code == 200  # a good token: just not a dashboard session


def test_the_dashboard_is_not_served_on_the_unix_socket(site: Site) -> None:
    transport = httpx.HTTPTransport(uds=str(site.daemon.socket))
    with httpx.Client(transport=transport, base_url="http://ws") as local:
        for address in ("/ui/login", "/ui/datasets", "/ui/static/style.css"):
            assert local.get(address).status_code == 404, address


def test_pages_forbid_framing_scripts_and_caching(site: Site) -> None:
    with site.login(site.reader.name) as client:
        answer = client.get("/ui/datasets")
        policy = answer.headers["content-security-policy"]
        assert "default-src 'none'" in policy and "frame-ancestors 'none'" in policy
        assert answer.headers["x-frame-options"] == "DENY"
        assert answer.headers["cache-control"] == "no-store"
        assert "<script" not in answer.text


def test_after_login_only_pages_of_the_dashboard_are_targets(site: Site) -> None:
    with httpx.Client(base_url=site.url) as client:
        token = _csrf(client.get("/ui/login").text)
        for target in ("https://evil.example/", "//evil.example/x", "/\\evil.example"):
            form = {"csrf": token, "name": site.reader.name, "password": PASSWORD,
                    "next": target}
            answer = client.post("/ui/login", data=form)
            assert answer.headers["location"] == "/ui/datasets", target


def test_a_denied_page_is_audited_like_a_denied_api_call(site: Site) -> None:
    with site.login(site.reader.name) as client:
        assert client.get("/ui/files", params={"ref": "secret/plans"}).status_code == 403
    events = site.daemon.ws_json("audit", "--user", site.reader.name, "--action",
                                 "access:request:deny", cwd=site.project)["events"]
    assert any(e["dataset"] == "secret/plans" for e in events)
    logins = site.daemon.ws_json("audit", "--user", site.reader.name, "--action",
                                 "account:login:success", cwd=site.project)["events"]
    assert logins and logins[0]["detail"]["door"] == "dashboard"
