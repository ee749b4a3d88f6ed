"""Headless Chromium for the browser tests: starting the system Chromium, signing in,
checking accessibility with axe-core, and saving screenshots as test artefacts."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

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

# The two sizes every flow runs at: a laptop and a phone (iPhone 12-15: 390x844 CSS pixels).
VIEWPORTS: dict[str, dict[str, int]] = {
    "desktop": {"width": 1280, "height": 800},
    "mobile": {"width": 390, "height": 844},
}

# axe-core from npm (tests/node), injected into the page: the same engine @axe-core/playwright runs.
AXE_SCRIPT = REPO / "tests" / "node" / "node_modules" / "axe-core" / "axe.min.js"
AXE_FAILING_IMPACTS = {"serious", "critical"}

ARTIFACTS = Path(os.environ.get("COLLAB_TEST_ARTIFACTS", REPO / "test-artifacts"))


@contextmanager
def chromium() -> Iterator[Browser]:
    """The system Chromium, headless; the pages come from the built front end (frontend/dist)."""
    if not (REPO / "frontend" / "dist" / "index.html").is_file():
        pytest.fail("frontend/dist is missing: scripts/bootstrap builds it", pytrace=False)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_FLAGS)
        yield browser
        browser.close()


def new_page(
    browser: Browser, worker: Worker, viewport: str = "desktop", color_scheme: str = "light"
) -> Page:
    context = browser.new_context(
        base_url=worker.http_base,
        viewport=VIEWPORTS[viewport],  # type: ignore[arg-type]
        color_scheme=color_scheme,  # type: ignore[arg-type]
        is_mobile=viewport == "mobile",
        has_touch=viewport == "mobile",
    )
    return context.new_page()


def log_in(browser: Browser, worker: Worker, user: User, viewport: str = "desktop", **options: Any) -> Page:
    """A new browser context signed in as `user` through the login page, on the document list."""
    page = new_page(browser, worker, viewport, **options)
    page.goto("/login")
    page.fill("#username", user.username)
    page.fill("#password", user.password)
    page.click("#submit")
    page.wait_for_url(f"{worker.http_base}/")
    return page


def assert_accessible(page: Page, where: str) -> None:
    """No serious or critical axe-core violation (WCAG 2.x A/AA rules) on the page as it is now."""
    if not AXE_SCRIPT.is_file():
        pytest.fail(f"{AXE_SCRIPT} is missing: scripts/bootstrap --test installs tests/node", pytrace=False)
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.add_script_tag(path=str(AXE_SCRIPT))
    result: dict[str, Any] = page.evaluate(
        """() => axe.run(document, {
            runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice']},
            resultTypes: ['violations'],
        })"""
    )
    failing = [v for v in result["violations"] if v.get("impact") in AXE_FAILING_IMPACTS]
    details = [
        f"{v['id']} ({v['impact']}): {v['help']} at {[node['target'] for node in v['nodes'][:5]]}"
        for v in failing
    ]
    assert not failing, f"accessibility violations on {where}:\n" + "\n".join(details)


def assert_fits_width(page: Page, where: str) -> None:
    """Nothing sticks out sideways: the page never scrolls horizontally (phones above all)."""
    widths: dict[str, int] = page.evaluate(
        "() => ({page: document.documentElement.scrollWidth, window: window.innerWidth})"
    )
    assert widths["page"] <= widths["window"], f"{where} is {widths['page']} px wide in {widths['window']} px"


def screenshot(page: Page, name: str) -> Path:
    """A full-page screenshot saved under test-artifacts/screenshots (COLLAB_TEST_ARTIFACTS),
    after checking that the page fits the window's width."""
    assert_fits_width(page, name)
    folder = ARTIFACTS / "screenshots"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / (re.sub(r"[^A-Za-z0-9_.-]+", "-", name) + ".png")
    page.screenshot(path=str(path), full_page=True)
    return path
