"""Account features in headless Chromium on a real daphne worker, on a laptop and a phone screen:
registration, profile and avatar, theme, password change, API tokens, sessions and "log out
everywhere", password reset by e-mail through a local SMTP server, throttled sign-in, the
app's own "page not found". Every main screen is checked with axe-core and photographed."""

from __future__ import annotations

import io
import re
from collections.abc import Callable, Iterator

import pytest
from PIL import Image
from playwright.sync_api import Browser, Page, expect

from tests.e2e.browser import VIEWPORTS, assert_accessible, chromium, log_in, new_page, screenshot
from tests.e2e.servers import User, Worker, make_user
from tests.e2e.smtp import SmtpServer


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with chromium() as browser:
        yield browser


@pytest.fixture(params=list(VIEWPORTS))
def viewport(request: pytest.FixtureRequest) -> str:
    name: str = request.param
    return name


def png_bytes(color: tuple[int, int, int], size: tuple[int, int] = (300, 200)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, color).save(out, format="PNG")
    return out.getvalue()


def test_register_profile_avatar_theme_and_password(
    start_worker: Callable[..., Worker], browser: Browser, viewport: str
) -> None:
    worker = start_worker()
    page = new_page(browser, worker, viewport)
    page.goto("/register")
    assert_accessible(page, "the registration page")
    screenshot(page, f"register-{viewport}")

    # a username outside the documented character set is refused with the server's reason, in the form
    page.fill("#username", "bad name!")
    page.fill("#email", "not-an-address")
    page.fill("#password", "a long enough password 1")
    page.click("#submit")
    expect(page.locator("form .form-error")).to_contain_text("username")
    page.fill("#username", f"newbie_{viewport}")
    page.click("#submit")
    expect(page.locator("form .form-error")).to_contain_text("e-mail")
    page.fill("#email", f"newbie.{viewport}@example.com")
    page.click("#submit")
    page.wait_for_url(f"{worker.http_base}/")
    expect(page.locator("h1")).to_have_text("Documents")
    assert_accessible(page, "the empty documents list")

    # profile: a display name shows in the top bar
    page.goto("/settings/profile")
    expect(page.locator("#profile-name")).to_be_visible()
    assert_accessible(page, "the profile settings")
    page.fill("#profile-name", "Nina Newbie")
    page.click("#profile-save")
    expect(page.locator("#main [role=status]", has_text="Saved.")).to_be_visible()
    if viewport == "desktop":  # the phone's top bar shows the avatar only
        expect(page.locator("#me-link")).to_contain_text("Nina Newbie")
    expect(page.locator("#me-link .avatar")).to_have_attribute("data-user", f"newbie_{viewport}")

    # avatar: a non-image is refused with the server's reason; a picture is shown everywhere at once
    page.set_input_files(
        "#avatar-file", {"name": "evil.png", "mimeType": "image/png", "buffer": b"<svg onload=x>"}
    )
    expect(page.locator("#avatar-error")).to_be_visible()
    page.set_input_files(
        "#avatar-file", {"name": "me.png", "mimeType": "image/png", "buffer": png_bytes((200, 30, 30))}
    )
    avatar_image = page.locator("#main .avatar-xl img.avatar-image")
    expect(avatar_image).to_be_visible()
    expect(page.locator("#me-link img.avatar-image")).to_be_visible()  # the top bar too
    src = avatar_image.get_attribute("src") or ""
    assert src.startswith("/api/users/"), src
    assert page.evaluate("src => fetch(src).then(r => r.headers.get('content-type'))", src).startswith(
        "image/"
    )
    screenshot(page, f"settings-profile-{viewport}")

    # the theme: dark by choice, kept by the server (a new browser context signed in gets it too)
    with page.expect_response(lambda r: r.request.method == "PATCH") as stored:
        page.get_by_label("Dark", exact=True).check()
    assert stored.value.status == 200
    expect(page.locator("html")).to_have_attribute("data-theme", "dark")
    elsewhere = log_in(browser, worker, User(f"newbie_{viewport}", "a long enough password 1", ""), viewport)
    expect(elsewhere.locator("html")).to_have_attribute("data-theme", "dark")  # kept by the server
    elsewhere.context.close()
    assert_accessible(page, "the profile settings in the dark theme")
    page.goto("/")
    expect(page.locator("html")).to_have_attribute("data-theme", "dark")
    assert_accessible(page, "the documents list in the dark theme")
    screenshot(page, f"documents-dark-{viewport}")

    # password change: the wrong current password is refused, then the new one works
    page.goto("/settings/security")
    page.fill("#current-password", "not my password")
    page.fill("#new-password", "another long password 2")
    page.fill("#repeat-password", "another long password 2")
    page.click("#password-save")
    expect(page.locator("#password-error")).to_be_visible()
    page.fill("#current-password", "a long enough password 1")
    page.click("#password-save")
    expect(page.locator("#password-done")).to_be_visible()
    assert_accessible(page, "the password settings")
    status, _ = worker.request(
        "POST", "/api/auth/token", {"username": f"newbie_{viewport}", "password": "another long password 2"}
    )
    assert status == 200


def test_tokens_sessions_and_log_out_everywhere(
    start_worker: Callable[..., Worker], browser: Browser, viewport: str
) -> None:
    worker = start_worker()
    olga = make_user(worker, f"olga_{viewport}")
    laptop, phone = log_in(browser, worker, olga, viewport), log_in(browser, worker, olga, viewport)

    laptop.goto("/settings/tokens")
    laptop.fill("#token-name", "ci deploys")
    laptop.click("#token-create")
    value = (laptop.locator("#token-value").text_content() or "").strip()
    assert len(value) >= 40
    status, me = worker.request("GET", "/api/auth/me", token=value)
    assert status == 200 and me["username"] == olga.username
    row = laptop.locator("#token-list li", has_text="ci deploys")
    expect(row).to_be_visible()
    assert value not in (laptop.locator("#token-list").text_content() or "")  # listed without its value
    assert_accessible(laptop, "the API token settings")
    screenshot(laptop, f"settings-tokens-{viewport}")
    row.get_by_role("button", name="Revoke ci deploys").click()
    dialog = laptop.locator("#revoke-dialog")
    expect(dialog).to_be_visible()
    assert_accessible(laptop, "the revoke dialog")
    with laptop.expect_response(lambda r: r.request.method == "DELETE") as revoked:
        dialog.locator("[data-role=submit]").click()
    assert revoked.value.status == 204
    expect(row).to_have_count(0)
    assert worker.request("GET", "/api/auth/me", token=value)[0] == 401

    # both browser sessions are listed, this one marked; log out everywhere ends both
    laptop.goto("/settings/sessions")
    sessions = laptop.locator("#session-list li")
    expect(sessions).to_have_count(2)
    expect(laptop.locator("#session-list li[data-current=true]")).to_contain_text("this browser")
    assert_accessible(laptop, "the session settings")
    screenshot(laptop, f"settings-sessions-{viewport}")
    laptop.click("#logout-everywhere")
    laptop.locator("#logout-everywhere-dialog [data-role=submit]").click()
    laptop.wait_for_url(re.compile(r"/login"))
    phone.goto("/")
    phone.wait_for_url(re.compile(r"/login"))
    expect(phone.locator("#username")).to_be_visible()


def test_password_reset_by_email(
    start_worker: Callable[..., Worker], browser: Browser, smtp_server: SmtpServer, viewport: str
) -> None:
    worker = start_worker(**smtp_server.env)
    address = f"pia.{viewport}@example.com"
    status, body = worker.request(
        "POST",
        "/api/auth/register",
        {"username": f"pia_{viewport}", "password": "the first password 1", "email": address},
    )
    assert status == 201, body

    page = new_page(browser, worker, viewport)
    page.goto("/login")
    page.click("#forgot-link")
    expect(page.locator("h1")).to_have_text("Reset your password")
    assert_accessible(page, "the forgot-password page")
    page.fill("#email", address)
    page.click("#submit")
    expect(page.locator("#reset-sent")).to_be_visible()
    screenshot(page, f"reset-requested-{viewport}")

    link = smtp_server.reset_link(address)
    assert link.startswith(worker.http_base + "/reset-password/"), link
    page.goto(link)
    expect(page.locator("h1")).to_have_text("Choose a new password")
    assert_accessible(page, "the reset-password page")
    page.fill("#password", "the second password 2")
    page.fill("#password-repeat", "the second password 2")
    page.click("#submit")
    expect(page.locator("#reset-done")).to_be_visible()

    # the link works once; the new password signs in, the old one no longer does
    page.goto(link)
    page.fill("#password", "a third password 3")
    page.fill("#password-repeat", "a third password 3")
    page.click("#submit")
    expect(page.locator("form .form-error")).to_contain_text("invalid, expired or was already used")
    page.goto("/login")
    page.fill("#username", f"pia_{viewport}")
    page.fill("#password", "the first password 1")
    page.click("#submit")
    expect(page.locator("#error")).to_contain_text("invalid username or password")
    page.fill("#password", "the second password 2")
    page.click("#submit")
    page.wait_for_url(f"{worker.http_base}/")

    # an unknown address gets the same answer and no mail
    page.goto("/forgot-password")
    page.fill("#email", f"nobody.{viewport}@example.com")
    page.click("#submit")
    expect(page.locator("#reset-sent")).to_be_visible()
    assert smtp_server.to(f"nobody.{viewport}@example.com") == []


def test_throttled_sign_in_says_how_long_to_wait(
    start_worker: Callable[..., Worker], browser: Browser, viewport: str
) -> None:
    worker = start_worker(COLLAB_AUTH_ACCOUNT_RATE="3/600")
    quinn = make_user(worker, f"quinn_{viewport}")
    page = new_page(browser, worker, viewport)
    page.goto("/login")
    page.fill("#username", quinn.username)
    for _ in range(3):
        page.fill("#password", "wrong password")
        with page.expect_response("**/api/auth/login") as answer:
            page.click("#submit")
        assert answer.value.status == 401
        expect(page.locator("#error")).to_contain_text("invalid username or password")
    page.fill("#password", quinn.password)  # refused anyway during the lockout
    page.click("#submit")
    expect(page.locator("#error")).to_contain_text(re.compile(r"Try again in (9|10) minutes"))
    expect(page.locator("#submit")).to_be_disabled()
    assert_accessible(page, "the throttled sign-in form")
    screenshot(page, f"login-throttled-{viewport}")


@pytest.mark.parametrize("debug", ["1", "0"])
def test_unknown_routes_get_the_apps_page_not_found(
    start_worker: Callable[..., Worker], browser: Browser, debug: str
) -> None:
    worker = start_worker(DEBUG=debug)
    user: User = make_user(worker, f"rita_{debug}")
    status, body = worker.request("GET", "/no/such/page")
    assert status == 404
    assert b"URLconf" not in body and b'<div id="app">' in body
    page: Page = log_in(browser, worker, user)
    page.goto("/no/such/page")
    expect(page.locator("#not-found")).to_have_text("Page not found")
    assert_accessible(page, "the page-not-found page")
    page.goto("/settings/nonsense")
    expect(page.locator("#not-found")).to_be_visible()
    page.get_by_role("link", name="← Back to documents").click()
    page.wait_for_url(f"{worker.http_base}/")
