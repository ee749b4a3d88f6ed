"""Chat in headless Chromium on real daphne workers: markup stays text, order, history, unread badges.

Stable selectors used here (also listed in frontend/README.md):

    #chat-status[data-status]            room socket: connecting | online | offline | closed
    #message-list                        the room's message log (role=log)
    #message-list .msg[data-seq]         a confirmed message; also data-id, data-author,
                                         data-client-id, data-state (pending | acked | sent | failed)
    .msg .msg-body                       the rendered body (markup → DOM nodes)
    #history-top[data-state]             more | loading | start (the first message is loaded)
    #composer-input, #send               the composer (Enter sends, Shift+Enter new line)
    #room-list[data-live]                inbox (live via ws/chat) | poll (GET every 15 s)
    #room-list .room-item[data-room-id=N] .unread-badge[data-count]   a room's unread badge
    #typing-indicator[data-users]        who is typing (comma separated)
    #room-here[data-users]               who has the room open (presence frames)
    .msg [data-action=react:👍|reply|edit|delete]   hover toolbar buttons
    .reaction[data-emoji][aria-pressed]  a reaction chip (click toggles)
    .thread-link, #chat-panel, #thread-replies, #thread-input   threads
    window.__chat.room.socket            the room socket (stop()/start() to drop and resume)
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from playwright.sync_api import Browser, Dialog, Page, expect
from websockets.sync.client import connect

from tests.e2e.browser import assert_accessible, chromium, log_in, screenshot
from tests.e2e.servers import User, Worker, make_user

HOSTILE = '<img src=x onerror="window.__pwned=1"><script>window.__pwned=2</script> **bold**'


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with chromium() as browser:
        yield browser


def make_room(worker: Worker, owner: User, name: str, *members: User, private: bool = False) -> int:
    status, body = worker.request("POST", "/api/chat/rooms", {"name": name, "private": private}, owner.token)
    assert status == 201, body
    room_id: int = body["id"]
    for member in members:
        status, answer = worker.request(
            "POST", f"/api/chat/rooms/{room_id}/members", {"username": member.username}, owner.token
        )
        assert status == 201, answer
    return room_id


def post_messages(worker: Worker, room_id: int, user: User, bodies: list[str]) -> list[int]:
    """Post over the room websocket, one after the other, each acknowledged; returns the seqs.

    (The synchronous websockets client: Playwright's sync API already runs an event loop here.)
    """
    url = f"ws://127.0.0.1:{worker.port}/ws/chat/{room_id}?token={user.token}"
    seqs: list[int] = []
    with connect(url, open_timeout=15) as socket:
        for body in bodies:
            client_id = uuid.uuid4().hex
            socket.send(json.dumps({"type": "message.send", "client_id": client_id, "body": body}))
            while True:
                frame: dict[str, Any] = json.loads(socket.recv(timeout=15))
                if frame["type"] == "error":
                    raise AssertionError(frame)
                if frame["type"] == "message.ack" and frame["client_id"] == client_id:
                    seqs.append(frame["seq"])
                    break
    return seqs


def open_room(page: Page, room_id: int) -> None:
    page.goto(f"/chat/{room_id}")
    expect(page.locator("#chat-status")).to_have_attribute("data-status", "online", timeout=15000)


def shown_messages(page: Page) -> list[tuple[int, str]]:
    rows: list[list[Any]] = page.eval_on_selector_all(
        "#message-list .msg[data-seq]",
        "els => els.map(e => [Number(e.dataset.seq), e.querySelector('.msg-body').textContent])",
    )
    return [(int(seq), text) for seq, text in rows]


def test_html_in_a_message_stays_text_and_both_see_one_order(
    start_worker: Callable[..., Worker], browser: Browser
) -> None:
    worker = start_worker()
    alice, bob = make_user(worker, "chatweb_alice"), make_user(worker, "chatweb_bob")
    room_id = make_room(worker, alice, "general", bob)

    alice_page, bob_page = log_in(browser, worker, alice), log_in(browser, worker, bob)
    dialogs: list[str] = []

    def on_dialog(dialog: Dialog) -> None:
        dialogs.append(dialog.message)
        dialog.dismiss()

    for page in (alice_page, bob_page):
        page.on("dialog", on_dialog)
        open_room(page, room_id)

    alice_page.fill("#composer-input", HOSTILE)
    alice_page.press("#composer-input", "Enter")
    expect(alice_page.locator("#composer-input")).to_have_value("")

    for page in (alice_page, bob_page):
        message = page.locator("#message-list .msg[data-seq='1']")
        expect(message).to_be_visible(timeout=10000)
        expect(message).to_have_attribute("data-state", "sent")
        body = message.locator(".msg-body")
        text = body.text_content() or ""
        assert "<script>window.__pwned=2</script>" in text
        assert '<img src=x onerror="window.__pwned=1">' in text
        assert page.locator("#message-list img, #message-list script").count() == 0
        assert body.locator("strong").text_content() == "bold"
        assert page.evaluate("typeof window.__pwned") == "undefined"

    # the rest of the markup: links are http(s) only and open safely; no [text](url) syntax
    bob_page.fill(
        "#composer-input",
        "see https://example.com/a?b=1, [x](javascript:alert(1)) javascript:alert(2)"
        " `<b>code</b>` ~~old~~ *new* @chatweb_alice",
    )
    bob_page.press("#composer-input", "Enter")
    message = alice_page.locator("#message-list .msg[data-seq='2'] .msg-body")
    expect(message).to_contain_text("[x](javascript:alert(1))", timeout=10000)
    links = message.locator("a")
    assert links.count() == 1
    assert links.first.get_attribute("href") == "https://example.com/a?b=1"
    assert links.first.get_attribute("target") == "_blank"
    assert set((links.first.get_attribute("rel") or "").split()) >= {"noopener", "noreferrer"}
    assert message.locator("code").text_content() == "<b>code</b>"
    assert message.locator("b").count() == 0
    assert message.locator("del").text_content() == "old"
    assert message.locator("em").text_content() == "new"
    assert message.locator(".mention.mention-me").text_content() == "@chatweb_alice"

    # both post at once: both pages end up with the same messages in the same order
    alice_page.fill("#composer-input", "from alice")
    bob_page.fill("#composer-input", "from bob")
    alice_page.press("#composer-input", "Enter")
    bob_page.press("#composer-input", "Enter")
    for page in (alice_page, bob_page):
        expect(page.locator("#message-list .msg[data-seq]")).to_have_count(4, timeout=10000)
        expect(page.locator("#message-list .msg[data-state='pending']")).to_have_count(0)
    seen_alice, seen_bob = shown_messages(alice_page), shown_messages(bob_page)
    assert seen_alice == seen_bob
    assert [seq for seq, _ in seen_alice] == [1, 2, 3, 4]
    assert {text for _, text in seen_alice[2:]} == {"from alice", "from bob"}
    assert dialogs == []


def test_scrolling_up_loads_older_messages_in_order(
    start_worker: Callable[..., Worker], browser: Browser
) -> None:
    worker = start_worker(COLLAB_CHAT_RATE="100000/1")
    carol = make_user(worker, "chatweb_carol")
    room_id = make_room(worker, carol, "history")
    assert post_messages(worker, room_id, carol, [f"message number {n}" for n in range(1, 121)]) == list(
        range(1, 121)
    )

    page = log_in(browser, worker, carol)
    open_room(page, room_id)
    messages = page.locator("#message-list .msg[data-seq]")
    expect(messages).to_have_count(50)
    assert [seq for seq, _ in shown_messages(page)] == list(range(71, 121))
    # the newest message is on screen (the view starts at the bottom)
    expect(page.locator("#message-list .msg[data-seq='120']")).to_be_in_viewport()

    def offset_of(seq: int) -> float:
        top: float = page.evaluate(
            """seq => {
                const list = document.querySelector('#message-list')
                const el = list.querySelector(`.msg[data-seq="${seq}"]`)
                return el.getBoundingClientRect().top - list.getBoundingClientRect().top
            }""",
            seq,
        )
        return top

    for expected_count, first in ((100, 21), (120, 1)):
        oldest = shown_messages(page)[0][0]
        page.eval_on_selector("#message-list", "el => { el.scrollTop = 0 }")
        before = offset_of(oldest)
        expect(messages).to_have_count(expected_count, timeout=10000)
        shown = shown_messages(page)
        assert [seq for seq, _ in shown] == list(range(first, 121))
        assert all(text == f"message number {seq}" for seq, text in shown)
        # the message that was at the top stays where it was (the view does not jump)
        assert abs(offset_of(oldest) - before) < 60
    expect(page.locator("#history-top")).to_have_attribute("data-state", "start")


def test_unread_badge_rises_when_someone_posts_in_another_room(
    start_worker: Callable[..., Worker], browser: Browser
) -> None:
    worker = start_worker()
    dave, erin = make_user(worker, "chatweb_dave"), make_user(worker, "chatweb_erin")
    here = make_room(worker, dave, "here", erin)
    elsewhere = make_room(worker, dave, "elsewhere", erin)

    page = log_in(browser, worker, erin)
    open_room(page, here)
    badge = page.locator(f"#room-list .room-item[data-room-id='{elsewhere}'] .unread-badge")
    expect(badge).to_be_hidden()
    # give the inbox socket (if the server has one) time to say hello
    page.wait_for_timeout(3500)
    live = page.locator("#room-list").get_attribute("data-live") == "inbox"

    post_messages(worker, elsewhere, dave, ["psst"])
    if not live:  # no inbox socket on this server: the list catches up on load (or the 15 s poll)
        open_room(page, here)
    expect(badge).to_have_text("1", timeout=10000)
    post_messages(worker, elsewhere, dave, ["psst again"])
    if not live:
        open_room(page, here)
    expect(badge).to_have_text("2", timeout=10000)
    expect(page.locator(f"#room-list .room-item[data-room-id='{here}'] .unread-badge")).to_be_hidden()

    # opening the room shows its messages below a "new messages" line and clears its badge
    page.click(f"#room-list a.room-link[data-room-id='{elsewhere}']")
    expect(page.locator("#chat-status")).to_have_attribute("data-status", "online", timeout=15000)
    expect(page.locator("#message-list .msg[data-seq]")).to_have_count(2)
    expect(page.locator("#unread-divider + .msg")).to_have_attribute("data-seq", "1")
    expect(badge).to_be_hidden()
    # the read marker reached the server: still read after a reload elsewhere
    page.wait_for_timeout(1000)
    open_room(page, here)
    expect(page.locator(f"#room-list .room-item[data-room-id='{elsewhere}']")).to_have_attribute(
        "data-unread", "0"
    )


def test_typing_presence_reactions_threads_and_a_dropped_socket(
    start_worker: Callable[..., Worker], browser: Browser
) -> None:
    worker = start_worker()
    frank, gina = make_user(worker, "chatweb_frank"), make_user(worker, "chatweb_gina")
    room_id = make_room(worker, frank, "extras", gina, private=True)
    frank_page, gina_page = log_in(browser, worker, frank), log_in(browser, worker, gina)
    for page in (frank_page, gina_page):
        open_room(page, room_id)
    for page in (frank_page, gina_page):  # who has the room open
        expect(page.locator("#room-here")).to_have_attribute(
            "data-users", "chatweb_frank,chatweb_gina", timeout=10000
        )

    # typing shows on the other side, and clears when the message is sent
    gina_page.locator("#composer-input").press_sequentially("hello fr")
    typing = frank_page.locator("#typing-indicator")
    expect(typing).to_have_attribute("data-users", "chatweb_gina", timeout=10000)
    expect(typing).to_contain_text("chatweb_gina is typing")
    gina_page.press("#composer-input", "Enter")
    expect(typing).to_have_attribute("data-users", "", timeout=10000)

    # a reaction toggles for everyone
    message = frank_page.locator("#message-list .msg[data-seq='1']")
    message.hover()
    message.locator("[data-action='react:👍']").click()
    for page in (frank_page, gina_page):
        chip = page.locator("#message-list .msg[data-seq='1'] .reaction[data-emoji='👍']")
        expect(chip.locator(".reaction-count")).to_have_text("1", timeout=10000)
    expect(frank_page.locator("#message-list .msg[data-seq='1'] .reaction")).to_have_attribute(
        "aria-pressed", "true"
    )
    frank_page.locator("#message-list .msg[data-seq='1'] .reaction").click()
    expect(gina_page.locator("#message-list .msg[data-seq='1'] .reaction")).to_have_count(0, timeout=10000)

    # a thread reply: the panel lists it, the other side sees the reply count
    message.hover()
    message.locator("[data-action='reply']").click()
    frank_page.fill("#thread-input", "a reply")
    frank_page.press("#thread-input", "Enter")
    expect(frank_page.locator("#thread-replies .msg[data-seq='2'] .msg-body")).to_have_text(
        "a reply", timeout=10000
    )
    expect(gina_page.locator("#message-list .thread-link")).to_have_text("1 reply", timeout=10000)
    expect(gina_page.locator("#message-list .msg[data-seq]")).to_have_count(1)  # replies stay in the thread

    # frank's socket drops: what he sends meanwhile waits, what gina posts meanwhile is not lost
    frank_page.evaluate("window.__chat.room.socket.stop()")
    frank_page.fill("#composer-input", "sent while offline")
    frank_page.press("#composer-input", "Enter")
    expect(frank_page.locator("#message-list .msg[data-state='pending']")).to_have_count(1)
    post_messages(worker, room_id, gina, ["posted while frank was away"])
    frank_page.evaluate("window.__chat.room.socket.start()")
    expect(frank_page.locator("#message-list .msg[data-state='pending']")).to_have_count(0, timeout=10000)
    # the same client id sent twice (e.g. the ack was lost) is stored once
    frank_page.evaluate(
        """() => {
            const socket = window.__chat.room.socket
            const frame = {type: 'message.send', client_id: 'retry-test-1', body: 'only once'}
            socket.send(frame)
            socket.send(frame)
        }"""
    )
    for page in (frank_page, gina_page):
        expect(page.locator("#message-list .msg[data-seq]")).to_have_count(4, timeout=10000)
        texts = [text for _, text in shown_messages(page)]
        assert texts[0] == "hello fr"
        assert set(texts[1:]) == {"sent while offline", "posted while frank was away", "only once"}
    assert shown_messages(frank_page) == shown_messages(gina_page)


MARKUP_CASES = [
    (
        "**<img src=x onerror=alert(1)>**",
        '<div class="md-p"><strong>&lt;img src=x onerror=alert(1)&gt;</strong></div>',
    ),
    ("[x](javascript:alert(1))", '<div class="md-p">[x](javascript:alert(1))</div>'),
    ("javascript:alert(1) data:text/html,x", '<div class="md-p">javascript:alert(1) data:text/html,x</div>'),
    (
        "(see https://example.com/a_(b).)",
        '<div class="md-p">(see <a href="https://example.com/a_(b)" target="_blank" rel="noopener noreferrer"'
        ' class="md-link">https://example.com/a_(b)</a>.)</div>',
    ),
    (
        'https://x.test/"onmouseover="alert(1)',
        '<div class="md-p"><a href="https://x.test/%22onmouseover=%22alert(1)" target="_blank"'
        ' rel="noopener noreferrer" class="md-link">https://x.test/"onmouseover="alert(1)</a></div>',
    ),
    ("`<b>**x**</b>`", '<div class="md-p"><code>&lt;b&gt;**x**&lt;/b&gt;</code></div>'),
    (
        "*it* ~~gone~~ ***both***",
        '<div class="md-p"><em>it</em> <del>gone</del> <strong><em>both</em></strong></div>',
    ),
    ("a * b * c **open", '<div class="md-p">a * b * c **open</div>'),
    (
        "```\n<script>x()</script>\n```",
        '<pre class="md-pre"><code>&lt;script&gt;x()&lt;/script&gt;</code></pre>',
    ),
    (
        "> *quoted*\nplain",
        '<blockquote class="md-quote"><em>quoted</em></blockquote><div class="md-p">plain</div>',
    ),
    (
        "@me and @other, not mail@example.com",
        '<div class="md-p"><span class="mention mention-me" data-user="me">@me</span> and'
        ' <span class="mention" data-user="other">@other</span>, not mail@example.com</div>',
    ),
]


def test_markup_renderer_builds_only_safe_nodes(
    start_worker: Callable[..., Worker], browser: Browser
) -> None:
    worker = start_worker()
    page = log_in(browser, worker, make_user(worker, "chatweb_hal"))
    page.goto("/chat")
    expect(page.locator("#chat-empty")).to_be_visible()
    results: list[dict[str, Any]] = page.evaluate(
        """cases => cases.map(body => {
            const box = document.createElement('div')
            box.append(window.__chat.markup.renderMarkup(body, {me: 'me'}))
            const tags = [...box.querySelectorAll('*')].map(e => e.localName)
            const attrs = [...box.querySelectorAll('*')].flatMap(e => e.getAttributeNames())
            return {html: box.innerHTML, tags, attrs}
        })""",
        [body for body, _ in MARKUP_CASES],
    )
    for (body, expected), result in zip(MARKUP_CASES, results, strict=True):
        assert result["html"] == expected, body
        assert set(result["tags"]) <= {"div", "strong", "em", "del", "code", "pre", "blockquote", "a", "span"}
        assert set(result["attrs"]) <= {"class", "href", "target", "rel", "data-user", "data-lang"}
    assert page.evaluate("typeof window.__pwned") == "undefined"


def test_the_unread_badge_is_live_on_the_documents_page_too(
    start_worker: Callable[..., Worker], browser: Browser
) -> None:
    worker = start_worker()
    ivy, jon = make_user(worker, "chatweb_ivy"), make_user(worker, "chatweb_jon")
    room_id = make_room(worker, jon, "ping", ivy)
    page = log_in(browser, worker, ivy)  # the documents list: the top bar's inbox socket is open here
    badge = page.locator("#nav-chat-badge")
    expect(badge).to_be_hidden()
    page.wait_for_timeout(1500)
    post_messages(worker, room_id, jon, ["are you there?"])
    expect(badge).to_have_text("1", timeout=10000)
    post_messages(worker, room_id, jon, ["hello?"])
    expect(badge).to_have_text("2", timeout=10000)
    page.click("#nav-chat")
    page.click(f"#room-list a.room-link[data-room-id='{room_id}']")
    expect(page.locator("#message-list .msg[data-seq]")).to_have_count(2, timeout=10000)
    expect(badge).to_be_hidden(timeout=10000)


def test_composer_counter_search_markup_and_rooms_of_the_same_name(
    start_worker: Callable[..., Worker], browser: Browser
) -> None:
    worker = start_worker()
    kim = make_user(worker, "chatweb_kim")
    first = make_room(worker, kim, "standup")
    second = make_room(worker, kim, "standup")
    post_messages(worker, first, kim, ["the **deploy** went fine"])
    page = log_in(browser, worker, kim)
    open_room(page, first)

    # two rooms called "standup" can be told apart
    names = [
        (
            page.locator(f"#room-list .room-item[data-room-id='{room}'] .room-name").text_content() or ""
        ).strip()
        for room in (first, second)
    ]
    assert names[0] != names[1] and all(name.startswith("standup") for name in names)

    # the counter says the limit; over it sending is blocked
    page.fill("#composer-input", "x" * 9120)
    counter = page.locator("#composer-counter")
    expect(counter).to_be_visible()
    expect(counter).to_have_attribute("data-count", "9120")
    expect(counter).to_contain_text("9,120 / 10,000")
    page.fill("#composer-input", "x" * 10001)
    expect(page.locator("#send")).to_be_disabled()
    page.press("#composer-input", "Enter")
    expect(page.locator("#chat-notices .notice[data-code='too_long']")).to_be_visible()
    page.fill("#composer-input", "")
    expect(counter).to_be_hidden()

    # search results show the message's markup with the match highlighted, and lead to it
    page.fill("#chat-search-input", "deploy")
    page.press("#chat-search-input", "Enter")
    result = page.locator(f"#search-results .search-result[data-room-id='{first}'][data-seq='1']")
    expect(result).to_be_visible(timeout=10000)
    expect(result.locator("strong mark")).to_have_text("deploy")
    assert "**" not in (result.text_content() or "")
    assert_accessible(page, "the search results")
    result.locator("a").click()
    expect(page.locator("#search-dialog")).to_have_count(0)
    expect(page.locator("#message-list .msg[data-seq='1']")).to_be_focused()


@pytest.mark.parametrize("viewport", ["desktop", "mobile"])
@pytest.mark.parametrize("theme", ["light", "dark"])
def test_chat_screens_are_accessible(
    start_worker: Callable[..., Worker], browser: Browser, viewport: str, theme: str
) -> None:
    worker = start_worker()
    lea, max_ = (
        make_user(worker, f"chatweb_lea_{viewport}_{theme}"),
        make_user(worker, f"chatweb_max_{viewport}_{theme}"),
    )
    room_id = make_room(worker, lea, "design", max_)
    post_messages(
        worker,
        room_id,
        max_,
        [
            f"hi @{lea.username}, see https://example.com and `code`",
            "> a quote\n**bold** ~~old~~",
            "```\nblock\n```",
        ],
    )
    page = log_in(browser, worker, lea, viewport, color_scheme=theme)
    expect(page.locator("html")).to_have_attribute("data-theme", theme)
    page.goto("/chat")
    expect(page.locator("#room-list")).to_be_visible()
    if viewport == "mobile":  # the list, without a room
        expect(page.locator("#chat-empty")).to_be_hidden()
    assert_accessible(page, f"the room list ({viewport}, {theme})")
    screenshot(page, f"chat-list-{viewport}-{theme}")

    page.click(f"#room-list a.room-link[data-room-id='{room_id}']")
    expect(page.locator("#chat-status")).to_have_attribute("data-status", "online", timeout=15000)
    expect(page.locator("#message-list .msg[data-seq]")).to_have_count(3)
    if viewport == "mobile":  # the room, with a way back, without the list
        expect(page.locator("#room-list")).to_be_hidden()
        expect(page.locator("#room-back")).to_be_visible()
    page.fill("#composer-input", "a reply from me")
    page.press("#composer-input", "Enter")
    expect(page.locator("#message-list .msg[data-seq='4']")).to_be_visible(timeout=10000)
    message = page.locator("#message-list .msg[data-seq='1']")
    message.hover()
    message.locator("[data-action='react:👍']").click()
    expect(message.locator(".reaction[data-emoji='👍']")).to_have_attribute(
        "aria-pressed", "true", timeout=10000
    )
    assert_accessible(page, f"a room ({viewport}, {theme})")
    screenshot(page, f"chat-room-{viewport}-{theme}")

    message.hover()
    message.locator("[data-action='reply']").click()
    expect(page.locator("#thread-input")).to_be_focused()
    assert_accessible(page, f"a thread ({viewport}, {theme})")
    page.press("#thread-input", "Escape")
    expect(page.locator("#chat-panel")).to_have_count(0)

    page.click("#members-btn")
    expect(page.locator(f"#member-list li[data-username='{max_.username}']")).to_be_visible(timeout=10000)
    assert_accessible(page, f"the members ({viewport}, {theme})")
    page.click("#members-btn" if viewport == "desktop" else "#chat-panel .panel-close")

    page.click("#room-menu-btn")
    expect(page.locator("#room-menu [data-action='members']")).to_be_focused()  # the first item
    page.click("#room-menu [data-action='rename']")
    expect(page.locator("#rename-dialog")).to_be_visible()
    assert_accessible(page, f"the rename dialog ({viewport}, {theme})")
    page.fill("#rename-input", "design review")
    page.click("#rename-dialog [data-role=submit]")
    expect(page.locator("#room-title")).to_have_text("design review", timeout=10000)

    if viewport == "mobile":
        page.click("#room-back")
    for opener, dialog in (
        ("#new-room-btn", "#new-room-dialog"),
        ("#browse-rooms-btn", "#browse-dialog"),
        ("#new-dm-btn", "#dm-dialog"),
    ):
        page.click(opener)
        expect(page.locator(dialog)).to_be_visible()
        assert_accessible(page, f"{dialog} ({viewport}, {theme})")
        page.click(f"{dialog} [data-role=cancel]")
        expect(page.locator(dialog)).to_have_count(0)
        expect(page.locator(opener)).to_be_focused()


def test_edit_delete_jump_to_latest_rate_limits_and_removal(
    start_worker: Callable[..., Worker], browser: Browser
) -> None:
    worker = start_worker(COLLAB_CHAT_RATE="3/4")
    roomy = start_worker()  # the same deployment without the tight limit, for oto's many messages
    nia, oto = make_user(worker, "chatweb_nia"), make_user(worker, "chatweb_oto")
    room_id = make_room(worker, nia, "ops", oto, private=True)
    post_messages(worker, room_id, oto, [f"line {n}" for n in range(1, 3)])
    page = log_in(browser, worker, nia)
    open_room(page, room_id)

    # ↑ in the empty composer edits my last message; Enter saves it
    page.fill("#composer-input", "first try")
    page.press("#composer-input", "Enter")
    mine = page.locator("#message-list .msg[data-seq='3']")
    expect(mine).to_have_attribute("data-state", "sent", timeout=10000)
    page.press("#composer-input", "ArrowUp")
    edit = mine.locator(".msg-edit-input")
    expect(edit).to_be_focused()
    edit.fill("second try")
    edit.press("Enter")
    expect(mine.locator(".msg-body")).to_have_text("second try", timeout=10000)
    expect(mine.locator(".msg-edited")).to_be_visible()

    # delete asks first
    mine.hover()
    mine.locator("[data-action='delete']").click()
    expect(page.locator("#delete-dialog")).to_be_visible()
    page.click("#delete-dialog [data-role=submit]")
    expect(page.locator("#message-list .msg-deleted[data-seq='3']")).to_be_visible(timeout=10000)

    # over the rate limit: a countdown, then the message goes by itself with the same client id
    # Four at once are over three per 4 s whatever the steps above took (on a loaded machine the
    # first message's window may have passed already).
    for n in range(4):
        page.fill("#composer-input", f"burst {n}")
        page.press("#composer-input", "Enter")
    notice = page.locator("#chat-notices .notice[data-code='rate_limited']")
    expect(notice).to_contain_text("You can send again in", timeout=10000)
    expect(page.locator("#message-list .msg[data-state='pending']")).not_to_have_count(0)
    expect(page.locator("#message-list .msg[data-state='pending']")).to_have_count(0, timeout=15000)
    texts = [text for _, text in shown_messages(page)]
    assert [texts.count(f"burst {n}") for n in range(4)] == [1, 1, 1, 1]

    # scrolled up, new messages are counted on "N new messages ↓"
    post_messages(roomy, room_id, oto, [f"filler {n}" for n in range(30)])
    expect(page.locator("#message-list .msg[data-seq]")).to_have_count(37, timeout=15000)
    page.eval_on_selector("#message-list", "el => { el.scrollTop = 200 }")
    page.wait_for_timeout(300)
    post_messages(roomy, room_id, oto, ["look down"])
    jump = page.locator("#jump-latest")
    expect(jump).to_have_text("1 new message ↓", timeout=10000)
    jump.click()
    expect(jump).to_be_hidden()
    expect(page.locator("#composer-input")).to_be_focused()
    expect(page.locator("#message-list .msg[data-seq]").last).to_be_in_viewport()

    # removed from the private room: the socket closes with 4403 and the banner says why
    oto_page = log_in(browser, worker, oto)
    open_room(oto_page, room_id)
    status, body = worker.request(
        "DELETE", f"/api/chat/rooms/{room_id}/members/{oto.username}", token=nia.token
    )
    assert status == 204, body
    expect(oto_page.locator("#chat-status")).to_have_attribute("data-status", "closed", timeout=15000)
    expect(oto_page.locator("#room-banner")).to_contain_text("do not have access")
    expect(oto_page.locator(f"#room-list .room-item[data-room-id='{room_id}']")).to_have_count(
        0, timeout=10000
    )


def test_new_room_browse_join_and_a_direct_message(
    start_worker: Callable[..., Worker], browser: Browser
) -> None:
    worker = start_worker()
    pia, quinn = make_user(worker, "chatweb_pia"), make_user(worker, "chatweb_quinn")
    pia_page, quinn_page = log_in(browser, worker, pia), log_in(browser, worker, quinn)

    # a new room: an empty name is refused inside the dialog, then the room opens
    pia_page.goto("/chat")
    pia_page.click("#new-room-btn")
    pia_page.click("#new-room-dialog [data-role=submit]")
    expect(pia_page.locator("#new-room-dialog .form-error")).to_be_visible()
    pia_page.fill("#new-room-name", "lobby")
    pia_page.click("#new-room-dialog [data-role=submit]")
    expect(pia_page.locator("#room-title")).to_have_text("lobby", timeout=10000)
    expect(pia_page.locator("#chat-status")).to_have_attribute("data-status", "online", timeout=15000)
    room_id = int(pia_page.locator("#room-view").get_attribute("data-room-id") or 0)
    expect(pia_page.locator(f"#room-list .room-item[data-room-id='{room_id}']")).to_be_visible()
    pia_page.fill("#composer-input", "welcome")
    pia_page.press("#composer-input", "Enter")

    # someone who is not a member reads it by its link, with a join bar instead of the composer
    open_room(quinn_page, room_id)
    expect(quinn_page.locator("#join-bar")).to_be_visible()
    expect(quinn_page.locator("#composer")).to_be_hidden()
    expect(quinn_page.locator("#message-list .msg[data-seq='1'] .msg-body")).to_have_text("welcome")
    quinn_page.click("#join-room")
    expect(quinn_page.locator("#composer-input")).to_be_visible(timeout=10000)
    expect(quinn_page.locator(f"#room-list .room-item[data-room-id='{room_id}']")).to_be_visible()
    quinn_page.fill("#composer-input", "thanks")
    quinn_page.press("#composer-input", "Enter")
    expect(pia_page.locator("#message-list .msg[data-seq='2'] .msg-body")).to_have_text(
        "thanks", timeout=10000
    )

    # browsing public rooms: joined rooms say so
    second = make_room(worker, pia, "announcements")
    quinn_page.click("#browse-rooms-btn")
    expect(quinn_page.locator(f"#public-rooms li[data-room-id='{room_id}'] .joined")).to_be_visible(
        timeout=10000
    )
    quinn_page.click(f"#public-rooms .join[data-room-id='{second}']")
    expect(quinn_page.locator("#browse-dialog")).to_have_count(0, timeout=10000)
    expect(quinn_page.locator("#room-view")).to_have_attribute("data-room-id", str(second))

    # a direct message: an unknown user is refused inside the dialog
    quinn_page.click("#new-dm-btn")
    quinn_page.fill("#dm-usernames", "nobody_here_at_all")
    quinn_page.click("#dm-dialog [data-role=submit]")
    expect(quinn_page.locator("#dm-dialog .form-error")).to_be_visible(timeout=10000)
    quinn_page.fill("#dm-usernames", f"@{pia.username}")
    quinn_page.click("#dm-dialog [data-role=submit]")
    expect(quinn_page.locator("#room-view")).to_have_attribute("data-kind", "direct", timeout=10000)
    expect(quinn_page.locator("#room-title")).to_have_text(pia.username)
    expect(quinn_page.locator("#chat-status")).to_have_attribute("data-status", "online", timeout=15000)
    quinn_page.fill("#composer-input", "just us")
    quinn_page.press("#composer-input", "Enter")
    direct = pia_page.locator("#room-list .room-item[data-kind='direct']")
    expect(direct.locator(".unread-badge")).to_have_text("1", timeout=10000)
    expect(direct.locator(".room-name")).to_have_text(quinn.username)
