"""Two people in headless Chromium edit one document: each sees the other's text and cursor."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from playwright.sync_api import Browser, expect

from tests.e2e.browser import assert_accessible, chromium, log_in, screenshot
from tests.e2e.servers import Worker, make_document, make_user


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with chromium() as browser:
        yield browser


def test_two_browsers_see_each_others_text_and_cursor(
    start_worker: Callable[..., Worker], browser: Browser
) -> None:
    worker = start_worker()
    alice, bob = make_user(worker, "alice7"), make_user(worker, "bob7")
    document_id = make_document(worker, alice, {bob.username: "editor"}, title="Shared notes")

    alice_page, bob_page = log_in(browser, worker, alice), log_in(browser, worker, bob)
    expect(alice_page.locator("a.doc-link", has_text="Shared notes")).to_be_visible()
    for page in (alice_page, bob_page):
        page.goto(f"/docs/{document_id}")
        expect(page.locator("#status")).to_have_text("synced", timeout=15000)

    alice_editor = alice_page.locator("#editor .ProseMirror")
    alice_editor.click()
    alice_page.keyboard.type("Hello from Alice.")
    bob_editor = bob_page.locator("#editor .ProseMirror")
    expect(bob_editor).to_contain_text("Hello from Alice.", timeout=10000)

    bob_editor.click()
    bob_page.keyboard.press("End")
    bob_page.keyboard.type(" Bob agrees.")
    expect(alice_editor).to_contain_text("Hello from Alice. Bob agrees.", timeout=10000)

    # each sees the other's caret, labelled with the name the server vouches for
    expect(alice_page.locator(".collaboration-cursor__label", has_text="bob7")).to_be_visible(timeout=10000)
    expect(bob_page.locator(".collaboration-cursor__label", has_text="alice7")).to_be_visible(timeout=10000)
    expect(alice_page.locator("#peers")).to_contain_text("bob7")
    assert_accessible(alice_page, "the document page with a collaborator")
    screenshot(alice_page, "document-two-editors")


def test_html_typed_into_a_document_stays_text(start_worker: Callable[..., Worker], browser: Browser) -> None:
    worker = start_worker()
    alice = make_user(worker, "alice8")
    document_id = make_document(worker, alice, title="<img src=x onerror=alert(1)>")
    page = log_in(browser, worker, alice)
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    page.goto(f"/docs/{document_id}")
    expect(page.locator("#status")).to_have_text("synced", timeout=15000)
    page.locator("#editor .ProseMirror").click()
    page.keyboard.type("<script>alert(2)</script>")
    expect(page.locator("#editor .ProseMirror")).to_contain_text("<script>alert(2)</script>")
    page.goto("/")
    expect(page.locator("a.doc-link").first).to_contain_text("<img src=x onerror=alert(1)>")
    assert dialogs == []
