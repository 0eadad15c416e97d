"""The dashboard in a real browser (Debian's Chromium under Playwright) against a real daemon.

Each test logs in through the form, as a person would, and asserts on what the
page shows: text, links, colours, what is absent.
"""

from __future__ import annotations

import os
import re
from typing import Any

import pytest

from tests.support.site import PASSWORD, Site

pytestmark = [
    pytest.mark.skipif(os.geteuid() != 0,
                       reason="needs root to run alice and bob as separate Unix users"),
    # the first test may wait for the suite to install Chromium (apt-get) on a bare machine
    pytest.mark.timeout(1800),
]


def log_in(page: Any, site: Site, name: str, *, start: str = "/ui/datasets") -> None:
    page.goto(site.url + start)
    page.get_by_label("User").fill(name)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_load_state()


def test_a_reader_sees_only_the_datasets_they_may_read(page: Any, site: Site) -> None:
    log_in(page, site, site.reader.name)
    assert page.url == site.url + "/ui/datasets"
    table = page.locator("table.grid")
    assert "public/iris" in table.inner_text()
    assert "secret/plans" not in page.content()
    nav = page.locator("header nav").inner_text()
    assert "Datasets" in nav and "Audit" in nav
    assert "Users" not in nav and "Policy" not in nav
    assert page.locator(".who").inner_text() == site.reader.name


def test_a_reader_gets_no_admin_page_and_no_secret_dataset(page: Any, site: Site) -> None:
    log_in(page, site, site.reader.name)
    for address in ("/ui/admin/users", "/ui/admin/policy", "/ui/audit/verify",
                    "/ui/files?ref=secret/plans", "/ui/lines?ref=secret/plans&file=roadmap.txt"):
        answer = page.goto(site.url + address)
        assert answer.status == 403, address
        heading = page.locator("h1").inner_text()
        assert heading.startswith(f"{site.reader.name} may not"), (address, heading)
        assert "take over the world" not in page.content()


def test_browsing_versions_files_history_and_diff(page: Any, site: Site) -> None:
    log_in(page, site, site.reader.name)
    page.get_by_role("link", name="public/iris").first.click()
    rows = page.locator("table.grid tbody tr")
    assert rows.count() == 3
    assert "v1.0" in rows.nth(2).inner_text()  # oldest last, with its tag
    assert "add sample 5" in rows.nth(0).inner_text()
    rows.nth(0).get_by_role("link", name="diff").click()
    assert "public/iris@2 → public/iris@3" in page.locator("h1").inner_text()
    assert "0 added, 1 modified, 0 deleted" in page.locator(".count").inner_text()

    page.goto(site.url + "/ui/files?ref=public/iris@3")
    assert "4 files" in page.locator(".count").inner_text()
    page.get_by_label("Search paths").fill("IMG")  # case-insensitive
    page.get_by_role("button", name="Search").click()
    assert "3 files match" in page.locator(".count").inner_text()
    assert page.locator("td.path").all_inner_texts() == [
        "images/img0.bin", "images/img1.bin", "images/img2.bin"]

    page.goto(site.url + "/ui/files?ref=public/iris@3")
    page.get_by_role("link", name="labels.csv").click()
    history = page.locator("table.grid tbody").inner_text()
    assert [line.split()[0] for line in history.splitlines()] == ["v3", "v2", "v1"]
    assert "fix labels" in history and "first cut" in history


def test_line_blame_colours_each_line_by_version_with_the_author_on_hover(
        page: Any, site: Site) -> None:
    log_in(page, site, site.reader.name,
           start="/ui/lines?ref=public/iris@3&file=labels.csv")
    lines = page.locator("table.lines tr")
    assert lines.count() == 6
    versions = [lines.nth(i).locator("td.ver").inner_text() for i in range(6)]
    assert versions == ["v1", "v1", "v2", "v1", "v2", "v3"]
    classes = [lines.nth(i).get_attribute("class") for i in range(6)]
    assert classes[0] == classes[1] == classes[3]
    assert len({classes[0], classes[2], classes[5]}) == 3  # three versions, three colours
    colours = {lines.nth(i).evaluate("e => getComputedStyle(e).backgroundColor")
               for i in (0, 2, 5)}
    assert len(colours) == 3
    assert lines.nth(2).get_attribute("title").startswith(f"v2 by {site.admin.name}")
    assert "fix labels" in lines.nth(2).get_attribute("title")
    assert lines.nth(5).locator("td.text").inner_text() == "5,<b>bold</b>"  # text, not markup


def test_an_admin_sees_users_roles_policy_and_verifies_the_audit_log(
        page: Any, site: Site) -> None:
    log_in(page, site, site.admin.name)
    assert "secret/plans" in page.locator("table.grid").inner_text()
    page.get_by_role("link", name="Users").click()
    row = page.locator("tr", has_text=site.reader.name)
    assert "reader on public/*" in row.inner_text()
    page.get_by_role("link", name="Policy").click()
    assert "p, admin, *, admin" not in page.content()  # shown as a table, not raw lines
    grants = page.locator("table.grid").first.inner_text()
    assert re.search(rf"{site.reader.name}\s+reader\s+public/\*", grants)

    page.get_by_role("link", name="Audit").click()
    page.get_by_label("Action").fill("dataset:tag:create")
    page.get_by_role("button", name="Filter").click()
    events = page.locator("table.grid tbody tr")
    assert events.count() == 1 and "v1.0" in events.inner_text()
    page.get_by_role("link", name="Verify the hash chain").click()
    assert page.locator("p.ok").inner_text().startswith("The audit log is intact")


def test_a_page_asked_for_before_login_is_shown_after_it(page: Any, site: Site) -> None:
    page.goto(site.url + "/ui/file?ref=public/iris&file=labels.csv")
    assert "/ui/login?next=" in page.url
    page.get_by_label("User").fill("nobody-here")  # (a wrong name: bob's back-off stays 0)
    page.get_by_label("Password").fill("wrong password, surely")
    page.get_by_role("button", name="Log in").click()
    assert "invalid user name or password" in page.locator("p.error").inner_text()
    page.get_by_label("User").fill(site.reader.name)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(re.compile(r".*/ui/file\?"))
    assert page.locator("h1").inner_text() == "labels.csv"


def test_session_cookie_flags_as_the_browser_keeps_them(page: Any, site: Site) -> None:
    log_in(page, site, site.reader.name)
    cookies = {c["name"]: c for c in page.context.cookies()}
    session = cookies["ws_session"]
    assert session["httpOnly"] is True
    assert session["sameSite"] == "Strict"
    assert session["secure"] is False  # plain http here; see test_session for https
    assert session["path"] == "/ui"
    assert page.evaluate("document.cookie") == ""  # no script can read them


def test_logging_out_ends_the_session(page: Any, site: Site) -> None:
    log_in(page, site, site.reader.name)
    page.get_by_role("button", name="Log out").click()
    assert page.url.startswith(site.url + "/ui/login")
    page.goto(site.url + "/ui/datasets")
    assert "/ui/login" in page.url
