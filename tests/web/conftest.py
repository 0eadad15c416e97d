"""One site per module (a daemon on TCP with history), and one real browser per module."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.support.browser import LAUNCH_ARGS, ensure_chromium
from tests.support.runtime import Runtime
from tests.support.site import Site, start_site


@pytest.fixture(scope="module")
def site(runtime: Runtime) -> Iterator[Site]:
    made = start_site(runtime)
    yield made
    made.daemon.stop()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Debian's Chromium (installed by the suite if missing) under Playwright.

    Module-scoped, not session-scoped: Playwright's sync API keeps an asyncio loop running
    in the main thread while it is open, and a later test of the same xdist worker that
    calls ``asyncio.run()`` would fail ("cannot be called from a running event loop")."""
    from playwright.sync_api import sync_playwright

    executable = ensure_chromium()
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(executable),
                                              args=LAUNCH_ARGS)
        yield launched
        launched.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    """A fresh browser context (no cookies) and a page in it."""
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    context.set_default_timeout(20_000)
    opened = context.new_page()
    yield opened
    context.close()
