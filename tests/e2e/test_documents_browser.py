"""The documents list and page in headless Chromium, on a laptop and a 390x844 phone: search,
sort, delete with confirmation, who has access, rename, Redo as soon as it can run, and the
chat's unread badge kept live on the documents pages."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterator

import pytest
from playwright.sync_api import Browser, Page, WebSocket, expect
from websockets.sync.client import connect

from tests.e2e.browser import VIEWPORTS, assert_accessible, chromium, log_in, screenshot
from tests.e2e.servers import User, Worker, make_document, make_user


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with chromium() as browser:
        yield browser


@pytest.fixture(params=list(VIEWPORTS))
def viewport(request: pytest.FixtureRequest) -> str:
    name: str = request.param
    return name


def expect_titles(page: Page, titles: list[str]) -> None:
    expect(page.locator("#doc-list a.doc-link")).to_have_text(titles)


def post_in_room(worker: Worker, room_id: int, user: User, body: str) -> None:
    url = f"ws://127.0.0.1:{worker.port}/ws/chat/{room_id}?token={user.token}"
    with connect(url, open_timeout=15) as socket:
        client_id = uuid.uuid4().hex
        socket.send(json.dumps({"type": "message.send", "client_id": client_id, "body": body}))
        while True:
            frame = json.loads(socket.recv(timeout=15))
            assert frame["type"] != "error", frame
            if frame["type"] == "message.ack" and frame["client_id"] == client_id:
                return


def test_list_search_sort_delete_and_access(
    start_worker: Callable[..., Worker], browser: Browser, viewport: str
) -> None:
    worker = start_worker()
    sara, tom = make_user(worker, f"sara_{viewport}"), make_user(worker, f"tom_{viewport}")
    long_title = "Quarterly planning for the platform team, with every open question from the offsite"
    for title in ("beta notes", "Alpha plan", long_title):
        make_document(worker, sara, title=title)
    shared = make_document(worker, tom, {sara.username: "editor"}, title="Tom's shared agenda")

    page = log_in(browser, worker, sara, viewport)
    expect(page.locator("#doc-list a.doc-link")).to_have_count(4)
    expect(page.locator("#doc-list a.doc-link").first).to_have_text(
        "Tom's shared agenda"
    )  # latest edit first
    # titles are readable on a phone: the long one wraps instead of shrinking to nothing
    box = page.locator("#doc-list a.doc-link", has_text="Quarterly planning").bounding_box()
    assert box is not None and box["width"] > 200 and box["height"] > 10
    expect(page.locator(f"li[data-doc-id='{shared}'] .doc-owner")).to_have_text(f"by {tom.username}")
    assert_accessible(page, "the documents list")
    screenshot(page, f"documents-{viewport}")

    page.select_option("#doc-sort", "title")
    expect_titles(page, ["Alpha plan", "beta notes", long_title, "Tom's shared agenda"])
    page.fill("#doc-search", "PLAN")
    expect_titles(page, ["Alpha plan", long_title])
    page.reload()  # the search and the order live in the address
    expect_titles(page, ["Alpha plan", long_title])
    page.fill("#doc-search", "")
    expect(page.locator("#doc-list a.doc-link")).to_have_count(4)

    # only the owner may delete, after confirming; cancelling keeps the document
    expect(page.locator(f"li[data-doc-id='{shared}'] .delete-doc")).to_have_count(0)
    page.get_by_role("button", name="Delete beta notes").click()
    dialog = page.locator("#delete-dialog")
    expect(dialog).to_be_visible()
    assert_accessible(page, "the delete confirmation")
    dialog.locator("[data-role=cancel]").click()
    expect(dialog).to_have_count(0)
    expect(page.locator("#doc-list a.doc-link", has_text="beta notes")).to_have_count(1)
    page.get_by_role("button", name="Delete beta notes").click()
    with page.expect_response(lambda r: r.request.method == "DELETE") as deleted:
        page.locator("#delete-dialog [data-role=submit]").click()
    assert deleted.value.status == 204
    expect(page.locator("#doc-list a.doc-link", has_text="beta notes")).to_have_count(0)
    status, documents = worker.request("GET", "/api/documents", token=sara.token)
    assert status == 200 and "beta notes" not in {d["title"] for d in documents}

    # an editor sees who else has access, but cannot change it
    page.click(f"li[data-doc-id='{shared}'] a.doc-link")
    expect(page.locator("#status")).to_have_text("synced", timeout=15000)
    members = page.locator("#members li")
    expect(members).to_have_count(2)
    expect(page.locator(f"#members li[data-username='{tom.username}'] .role")).to_have_text("owner")
    expect(page.locator("#share-username")).to_have_count(0)
    expect(page.locator("#members .remove")).to_have_count(0)
    assert_accessible(page, "a shared document, as an editor")
    screenshot(page, f"document-editor-{viewport}")


def test_rename_redo_and_live_chat_badge(
    start_worker: Callable[..., Worker], browser: Browser, viewport: str
) -> None:
    worker = start_worker()
    uma, vic = make_user(worker, f"uma_{viewport}"), make_user(worker, f"vic_{viewport}")
    document_id = make_document(worker, uma, title="Draft")
    status, room = worker.request("POST", "/api/chat/rooms", {"name": "team", "private": False}, vic.token)
    assert status == 201, room
    status, body = worker.request(
        "POST", f"/api/chat/rooms/{room['id']}/members", {"username": uma.username}, vic.token
    )
    assert status == 201, body

    page = log_in(browser, worker, uma, viewport)
    inbox_frames: list[object] = []

    def watch(socket: WebSocket) -> None:
        if socket.url.endswith("/ws/chat"):
            socket.on("framereceived", lambda frame: inbox_frames.append(frame))

    page.on("websocket", watch)
    page.goto(f"/docs/{document_id}")
    expect(page.locator("#status")).to_have_text("synced", timeout=15000)

    # rename in place: Enter saves (the server has it), Escape gives up
    page.get_by_role("button", name="Draft (rename)").click()
    page.fill("#doc-title-input", "Final report")
    with page.expect_response(lambda r: r.request.method == "PATCH") as renamed:
        page.press("#doc-title-input", "Enter")
    assert renamed.value.status == 200
    expect(page.locator("#doc-title")).to_have_text("Final report")
    expect(page).to_have_title("Final report · Collab")
    assert (
        worker.request("GET", f"/api/documents/{document_id}", token=uma.token)[1]["title"] == "Final report"
    )
    page.get_by_role("button", name="Final report (rename)").click()
    page.fill("#doc-title-input", "Something else")
    page.press("#doc-title-input", "Escape")
    expect(page.locator("#doc-title")).to_have_text("Final report")
    expect(page.get_by_role("button", name="Final report (rename)")).to_be_focused()
    assert (
        worker.request("GET", f"/api/documents/{document_id}", token=uma.token)[1]["title"] == "Final report"
    )

    # the owner shares the document and takes it back
    page.fill("#share-username", vic.username)
    page.select_option("#share-role", "viewer")
    page.click("#share-add")
    expect(page.locator(f"#members li[data-username='{vic.username}'] .role")).to_have_text("viewer")
    assert worker.request("GET", f"/api/documents/{document_id}", token=vic.token)[0] == 200
    page.fill("#share-username", "nobody-of-that-name")
    page.click("#share-add")
    expect(page.locator("#share-error")).to_be_visible()
    with page.expect_response(lambda r: r.request.method == "DELETE") as removed:
        page.get_by_role("button", name=f"Remove {vic.username}").click()
    assert removed.value.status == 204
    expect(page.locator(f"#members li[data-username='{vic.username}']")).to_have_count(0)
    assert worker.request("GET", f"/api/documents/{document_id}", token=vic.token)[0] == 403

    # the toolbar is one Tab stop, walked with the arrow keys
    page.locator("[data-action=bold]").focus()
    page.keyboard.press("ArrowRight")
    expect(page.locator("[data-action=italic]")).to_be_focused()
    expect(page.locator("#toolbar button[tabindex='0']")).to_have_count(1)

    # Redo is on as soon as there is something to redo, not one keystroke later
    redo, undo = page.locator("[data-action=redo]"), page.locator("[data-action=undo]")
    expect(redo).to_be_disabled()
    page.locator("#editor .ProseMirror").click()
    page.keyboard.type("first words")
    expect(undo).to_be_enabled()
    undo.click()
    expect(page.locator("#editor .ProseMirror")).not_to_contain_text("first words")
    expect(redo).to_be_enabled()
    redo.click()
    expect(page.locator("#editor .ProseMirror")).to_contain_text("first words")
    expect(redo).to_be_disabled()

    # the chat badge in the top bar rises while this page stays open (the inbox socket)
    badge = page.locator("#nav-chat-badge")
    expect(badge).to_be_hidden()
    for _ in range(150):  # the inbox socket is up once it has said hello
        if inbox_frames:
            break
        page.wait_for_timeout(100)
    assert inbox_frames, "the inbox socket never said hello"
    post_in_room(worker, room["id"], vic, "have you seen the report?")
    expect(badge).to_have_text("1", timeout=10000)
    post_in_room(worker, room["id"], vic, "ping")
    expect(badge).to_have_text("2", timeout=10000)
    assert_accessible(page, "the document page")
    screenshot(page, f"document-owner-{viewport}")
