"""Headless Chromium for the browser tests: starting the system Chromium and signing in."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from playwright.sync_api import Browser, Page, sync_playwright

from tests.e2e.servers import REPO, User, Worker

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]


@contextmanager
def chromium() -> Iterator[Browser]:
    """The system Chromium, headless; the pages come from the built front end (frontend/dist)."""
    if not (REPO / "frontend" / "dist" / "index.html").is_file():
        pytest.fail("frontend/dist is missing: scripts/bootstrap builds it", pytrace=False)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_FLAGS)
        yield browser
        browser.close()


def log_in(browser: Browser, worker: Worker, user: User) -> Page:
    """A new browser context signed in as `user` through the login page, on the document list."""
    page = browser.new_context(base_url=worker.http_base).new_page()
    page.goto("/login")
    page.fill("#username", user.username)
    page.fill("#password", user.password)
    page.click("#submit")
    page.wait_for_url(f"{worker.http_base}/")
    return page
