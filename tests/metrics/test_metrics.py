"""``/metrics`` from a real daemon, parsed with prometheus-client's own parser.

Values are asserted as they change after real operations (an add through the
CLI, a denied request, a login), not as fixed numbers.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from starlette.requests import Request

from tests.support.daemon import Daemon, give
from tests.support.runtime import Runtime
from tests.support.site import PASSWORD, Site, free_port, start_site
from workspace.api.routes.metrics import loopback_allowed
from workspace.config import Settings

pytestmark = [
    pytest.mark.skipif(os.geteuid() != 0,
                       reason="needs root to run alice and bob as separate Unix users"),
]
DOCS = Path(__file__).resolve().parents[2] / "docs" / "dashboard.md"

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


@pytest.fixture(scope="module")
def site(runtime: Runtime) -> Iterator[Site]:
    made = start_site(runtime, WORKSPACE_METRICS_CACHE_SECONDS="0",
                      WORKSPACE_AUDIT_CHECKPOINT_EVERY="1")
    yield made
    made.daemon.stop()


@pytest.fixture(scope="module")
def admin_token(site: Site) -> str:
    return str(site.daemon.ws_json("token", "create", site.admin.name, "--name", "prom",
                                   cwd=site.project)["token"])


def scrape(url: str, token: str | None = None) -> Samples:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    answer = httpx.get(f"{url}/metrics", headers=headers, timeout=30)
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"].startswith("text/plain")
    return {(sample.name, frozenset(sample.labels.items())): sample.value
            for family in text_string_to_metric_families(answer.text)
            for sample in family.samples}


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


def bearer(site: Site, name: str) -> dict[str, str]:
    login = httpx.post(f"{site.url}/v1/login", json={"name": name, "password": PASSWORD})
    assert login.status_code == 200, login.text
    return {"Authorization": f"Bearer {login.json()['token']}"}


def test_store_dataset_audit_and_request_figures_follow_real_operations(
        site: Site, admin_token: str) -> None:
    before = scrape(site.url, admin_token)
    more = site.project / "more"
    more.mkdir()
    (more / "a.bin").write_bytes(b"a" * 1000)
    (more / "b.bin").write_bytes(b"b" * 3000)
    (more / "same-as-a.bin").write_bytes(b"a" * 1000)  # deduplicated: one object
    give(more, site.admin)
    site.ws("add", "more", "-d", "more/data", "-m", "more")
    after = scrape(site.url, admin_token)

    assert value(after, "workspace_store_objects") == value(before, "workspace_store_objects") + 2
    assert value(after, "workspace_store_bytes") == value(before, "workspace_store_bytes") + 4000
    assert value(after, "workspace_dataset_bytes", dataset="more/data") == 5000
    assert value(after, "workspace_dataset_files", dataset="more/data") == 3
    assert value(after, "workspace_dataset_versions", dataset="public/iris") == 3
    logical, physical = (value(after, "workspace_store_logical_bytes"),
                         value(after, "workspace_store_bytes"))
    assert logical - value(before, "workspace_store_logical_bytes") == 5000
    assert value(after, "workspace_store_dedup_ratio") == pytest.approx(logical / physical)
    assert value(after, "workspace_audit_events_total") > value(
        before, "workspace_audit_events_total")
    add = {"method": "POST", "route": "/v1/add", "status": "200"}
    assert value(after, "workspace_http_requests_total", **add) == value(
        before, "workspace_http_requests_total", **add) + 1
    assert value(after, "workspace_http_request_duration_seconds_count", **add) == value(
        before, "workspace_http_request_duration_seconds_count", **add) + 1


def test_a_denied_request_is_counted_by_decision_route_and_status(
        site: Site, admin_token: str) -> None:
    headers = bearer(site, site.reader.name)
    before = scrape(site.url, admin_token)
    assert httpx.get(f"{site.url}/v1/ls", params={"ref": "secret/plans"},
                     headers=headers).status_code == 403
    assert httpx.get(f"{site.url}/v1/ls", params={"ref": "public/iris"},
                     headers=headers).status_code == 200
    after = scrape(site.url, admin_token)
    for decision in ("allow", "deny"):
        grew = (value(after, "workspace_authz_decisions_total", decision=decision)
                - value(before, "workspace_authz_decisions_total", decision=decision))
        assert grew >= 1, decision  # the scrapes themselves are allowed decisions too
    denied = {"method": "GET", "route": "/v1/ls", "status": "403"}
    assert value(after, "workspace_http_requests_total", **denied) == value(
        before, "workspace_http_requests_total", **denied) + 1


def test_dashboard_pages_are_labelled_by_template_not_by_address(
        site: Site, admin_token: str) -> None:
    with site.login(site.reader.name) as client:
        for ref in ("public/iris@1", "public/iris@2", "public/iris@3"):
            assert client.get("/ui/files", params={"ref": ref}).status_code == 200
        assert client.get("/ui/static/style.css").status_code == 200
    samples = scrape(site.url, admin_token)
    labels = {dict(labels)["route"] for name, labels in samples
              if name == "workspace_http_requests_total"}
    assert {"/ui/files", "/ui/login", "/ui/static/*"} <= labels
    assert not [label for label in labels if "?" in label or "@" in label]


def test_checkpoint_age_and_watcher_state_are_exported(site: Site, admin_token: str) -> None:
    samples = scrape(site.url, admin_token)
    assert 0 <= value(samples, "workspace_audit_checkpoint_age_seconds") < 3600
    assert value(samples, "workspace_audit_checkpoint_lag_events") >= 0
    assert value(samples, "workspace_watch_enabled") == 1
    assert value(samples, "workspace_watch_paths", state="watched") >= 2  # iris, plans
    assert value(samples, "workspace_watch_watch_budget") > 0


def test_only_admins_scrape_over_tcp(site: Site, admin_token: str) -> None:
    assert httpx.get(f"{site.url}/metrics").status_code == 401
    reader = httpx.get(f"{site.url}/metrics", headers=bearer(site, site.reader.name))
    assert reader.status_code == 403
    assert reader.json()["error"]["code"] == "permission_denied"
    scrape(site.url, admin_token)


def test_every_exported_metric_is_documented(site: Site, admin_token: str) -> None:
    answer = httpx.get(f"{site.url}/metrics", headers={"Authorization": f"Bearer {admin_token}"})
    exported = {family.name + ("_total" if family.type == "counter" else "")
                for family in text_string_to_metric_families(answer.text)}
    documented = set(re.findall(r"^\| `(workspace_[a-z_]+)` \|", DOCS.read_text(), re.M))
    assert exported == documented, (f"docs/dashboard.md, Metrics: add {exported - documented}, "
                                    f"remove {documented - exported}")


# --- metrics_from_localhost and the cache ------------------------------------------------------


@pytest.fixture
def local_daemon(runtime: Runtime) -> Iterator[tuple[Daemon, str]]:
    alice = runtime.user("alice")
    home = runtime.make_dir(alice, "home")
    address = f"127.0.0.1:{free_port()}"
    daemon = Daemon(runtime, alice, home, f"sqlite:///{home / 'workspace.db'}", extra_env={
        "WORKSPACE_TCP": address, "WORKSPACE_METRICS_FROM_LOCALHOST": "true",
        "WORKSPACE_METRICS_CACHE_SECONDS": "3600"}).start()
    yield daemon, f"http://{address}"
    daemon.stop()


def test_a_loopback_scraper_needs_no_token_when_allowed_and_figures_are_cached(
        local_daemon: tuple[Daemon, str], runtime: Runtime) -> None:
    daemon, url = local_daemon
    first = scrape(url)
    assert value(first, "workspace_store_objects") == 0
    project = runtime.make_dir(daemon.owner, "project")
    (project / "data").mkdir()
    (project / "data" / "x.bin").write_bytes(b"x" * 10)
    give(project, daemon.owner)
    daemon.ws("init", cwd=project)
    daemon.ws("add", "data", "-d", "cached/data", "-m", "one", cwd=project)
    second = scrape(url)
    assert value(second, "workspace_store_objects") == 0  # read once, kept for an hour
    assert value(second, "workspace_metrics_database_age_seconds") > 0
    add = {"method": "POST", "route": "/v1/add", "status": "200"}
    assert value(second, "workspace_http_requests_total", **add) == 1  # requests: always live


@pytest.mark.parametrize(("client", "allowed"), [
    (("127.0.0.1", 5000), True), (("127.8.9.10", 5000), True), (("::1", 5000), True),
    (("10.1.2.3", 5000), False), (("192.168.0.7", 5000), False), (None, False)])
def test_only_loopback_addresses_are_exempt(client: tuple[str, int] | None,
                                            allowed: bool) -> None:
    app = type("App", (), {})()
    app.state = type("State", (), {"settings": Settings(metrics_from_localhost=True)})()
    request = Request({"type": "http", "method": "GET", "path": "/metrics", "headers": [],
                       "client": client, "app": app, "state": {}})
    assert loopback_allowed(request) is allowed
    app.state.settings = Settings(metrics_from_localhost=False)
    assert loopback_allowed(request) is False
