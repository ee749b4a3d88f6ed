"""Avatars: upload (real type, size, dimensions, corrupt files), re-encoding, serving, deletion."""

from __future__ import annotations

import io
import struct
import uuid
import zlib
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from PIL import Image

from collab.accounts.services import identity_of
from collab.models import Profile
from tests.collab.accounts.helpers import browser, call, register, token_for

pytestmark = pytest.mark.django_db
User = get_user_model()


@pytest.fixture(autouse=True)
def media(settings: Any, tmp_path: Path) -> Path:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


def image_bytes(kind: str, size: tuple[int, int] = (300, 200), mode: str = "RGB", **save: Any) -> bytes:
    out = io.BytesIO()
    Image.new(mode, size, (200, 30, 30) if mode == "RGB" else None).save(out, kind, **save)
    return out.getvalue()


def upload(
    client: Client, token: str, data: bytes, name: str = "a.png", content_type: str = "image/png"
) -> Any:
    file = SimpleUploadedFile(name, data, content_type=content_type)
    return client.post("/api/auth/me/avatar", {"file": file}, HTTP_AUTHORIZATION=f"Bearer {token}")


def account(client: Client) -> tuple[str, str]:
    username = register(client)
    return username, token_for(client, username)


def files_under(root: Path) -> list[Path]:
    return sorted(path for path in root.rglob("*") if path.is_file())


@pytest.mark.parametrize(
    ("kind", "extra"),
    [("PNG", {}), ("JPEG", {"quality": 90}), ("WEBP", {}), ("GIF", {})],
)
def test_each_accepted_format_becomes_a_256_square(kind: str, extra: dict[str, Any], media: Path) -> None:
    client = Client()
    _, token = account(client)
    answer = upload(client, token, image_bytes(kind, (640, 360), **extra), name=f"x.{kind.lower()}")
    assert answer.status_code == 200, answer.content
    url = answer.json()["avatar_url"]
    assert url.startswith("/api/users/") and "/avatar?v=" in url
    served = client.get(url, HTTP_AUTHORIZATION=f"Bearer {token}")
    assert served.status_code == 200 and served["Content-Type"] == "image/webp"
    image = Image.open(io.BytesIO(served.content))
    assert image.size == (256, 256) and image.format == "WEBP"
    assert len(files_under(media)) == 1


def test_the_real_type_counts_not_the_name_or_content_type() -> None:
    client = Client()
    _, token = account(client)
    disguised = upload(client, token, image_bytes("PNG"), name="notes.txt", content_type="text/plain")
    assert disguised.status_code == 200
    for data, name, kind in [
        (b"<svg xmlns='http://www.w3.org/2000/svg'/>", "a.png", "image/png"),
        (b"%PDF-1.4 not an image", "a.jpg", "image/jpeg"),
        (image_bytes("BMP"), "a.png", "image/png"),
        (image_bytes("TIFF"), "a.gif", "image/gif"),
        (b"", "a.png", "image/png"),
    ]:
        refused = upload(client, token, data, name=name, content_type=kind)
        assert refused.status_code == 415, (name, refused.content)
        assert refused.json()["code"] == "avatar_unsupported_type"


def test_a_damaged_image_is_refused_as_corrupt_and_changes_nothing(media: Path) -> None:
    client = Client()
    username, token = account(client)
    good = image_bytes("PNG")
    for damaged in (good[: len(good) // 2], good[:40], image_bytes("JPEG")[:200], b"GIF89a" + b"\x00" * 5):
        refused = upload(client, token, damaged)
        assert refused.status_code == 400, refused.content
        assert refused.json()["code"] == "avatar_corrupt"
    assert not Profile.objects.filter(user__username=username).exists()
    assert files_under(media) == []


def png_declaring(width: int, height: int) -> bytes:
    """A small PNG whose header declares a huge image (a decompression bomb's first bytes)."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    rows = zlib.compress(b"\x00" * 1024)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", rows) + chunk(b"IEND", b"")


def test_huge_dimensions_and_bombs_are_refused_before_decoding(settings: Any) -> None:
    client = Client()
    _, token = account(client)
    for width, height in ((30_000, 30_000), (20_000, 10), (100_000, 100_000)):
        refused = upload(client, token, png_declaring(width, height))
        assert refused.status_code == 400, refused.content
        assert refused.json()["code"] == "avatar_dimensions_too_large"
    settings.COLLAB_AVATAR_MAX_PIXELS = 1000
    small_limit = upload(client, token, image_bytes("PNG", (40, 40)))
    assert small_limit.json()["code"] == "avatar_dimensions_too_large"


def test_too_large_uploads_are_refused(settings: Any) -> None:
    settings.COLLAB_AVATAR_MAX_BYTES = 10_000
    client = Client()
    _, token = account(client)
    big = image_bytes("PNG", (400, 400), mode="RGB") + b"\x00" * 20_000
    refused = upload(client, token, big)
    assert refused.status_code == 413 and refused.json()["code"] == "avatar_too_large"
    # Declared far over the limit: refused from the Content-Length, before the body is parsed.
    huge = upload(client, token, b"\x89PNG\r\n\x1a\n" + b"\x00" * 200_000)
    assert huge.status_code == 413 and huge.json()["code"] == "avatar_too_large"


def test_metadata_is_stripped_and_orientation_applied() -> None:
    client = Client()
    _, token = account(client)
    exif = Image.Exif()
    exif[0x0112] = 6  # orientation: rotate 90 degrees clockwise to display
    exif[0x010F] = "SecretCam"  # camera maker
    photo = image_bytes("JPEG", (400, 200), exif=exif.tobytes(), comment=b"private comment")
    assert b"SecretCam" in photo
    answer = upload(client, token, photo, name="p.jpg", content_type="image/jpeg")
    assert answer.status_code == 200
    served = client.get(answer.json()["avatar_url"], HTTP_AUTHORIZATION=f"Bearer {token}").content
    assert b"SecretCam" not in served and b"private comment" not in served and b"Exif" not in served
    assert not Image.open(io.BytesIO(served)).getexif()


def test_a_new_avatar_replaces_the_old_file_and_url(
    media: Path, django_capture_on_commit_callbacks: Any
) -> None:
    client = Client()
    username, token = account(client)
    first = upload(client, token, image_bytes("PNG")).json()["avatar_url"]
    old_files = files_under(media)
    with django_capture_on_commit_callbacks(execute=True):
        second = upload(client, token, image_bytes("PNG", mode="L")).json()["avatar_url"]
    assert first != second
    assert len(files_under(media)) == 1 and files_under(media) != old_files
    assert identity_of(User.objects.get(username=username))["avatar_url"] == second
    # The old URL's version is no longer current: not cacheable for long, same current image.
    old = client.get(first, HTTP_AUTHORIZATION=f"Bearer {token}")
    assert old.status_code == 200 and "no-cache" in old["Cache-Control"]


def test_serving_headers_etag_and_authentication() -> None:
    client = Client()
    username, token = account(client)
    url = upload(client, token, image_bytes("PNG")).json()["avatar_url"]
    viewer_username = register(client)
    viewer = browser(viewer_username)  # any signed-in user may see it, with the session cookie
    served = viewer.get(url)
    assert served.status_code == 200
    assert served["Cache-Control"] == "private, max-age=31536000, immutable"
    assert served["X-Content-Type-Options"] == "nosniff"
    assert served["ETag"] == f'"{url.rsplit("=", 1)[1]}"'
    again = viewer.get(url, HTTP_IF_NONE_MATCH=served["ETag"])
    assert again.status_code == 304 and again.content == b""
    plain = viewer.get(f"/api/users/{username.upper()}/avatar")
    assert plain.status_code == 200 and plain["Cache-Control"] == "private, no-cache"
    anonymous = Client().get(url)
    assert anonymous.status_code == 401 and anonymous.json()["code"] == "unauthenticated"
    missing = viewer.get(f"/api/users/{viewer_username}/avatar")
    assert missing.status_code == 404 and missing.json()["code"] == "not_found"
    assert viewer.get("/api/users/nobody-at-all/avatar").status_code == 404


def test_deleting_the_avatar_removes_its_file(media: Path, django_capture_on_commit_callbacks: Any) -> None:
    client = Client()
    _, token = account(client)
    url = upload(client, token, image_bytes("PNG")).json()["avatar_url"]
    with django_capture_on_commit_callbacks(execute=True):
        assert call(client, "delete", "/api/auth/me/avatar", token).status_code == 204
    assert files_under(media) == []
    assert call(client, "get", "/api/auth/me", token).json()["avatar_url"] is None
    assert client.get(url, HTTP_AUTHORIZATION=f"Bearer {token}").status_code == 404
    assert call(client, "delete", "/api/auth/me/avatar", token).status_code == 204  # idempotent


def test_upload_needs_a_file_field_and_authentication() -> None:
    client = Client()
    _, token = account(client)
    wrong_field = client.post(
        "/api/auth/me/avatar",
        {"image": SimpleUploadedFile("a.png", image_bytes("PNG"))},
        HTTP_AUTHORIZATION=f"Bearer {token}",
    )
    assert wrong_field.status_code == 422 and wrong_field.json()["code"] == "invalid_request"
    anonymous = Client().post(
        "/api/auth/me/avatar", {"file": SimpleUploadedFile("a.png", image_bytes("PNG"))}
    )
    assert anonymous.status_code == 401


def test_a_broken_multipart_body_is_a_400() -> None:
    client = Client()
    _, token = account(client)
    for content_type in ("multipart/form-data", "multipart/form-data; boundary="):
        refused = client.post(
            "/api/auth/me/avatar",
            data=b"--x\r\n\r\n",
            content_type=content_type,
            HTTP_AUTHORIZATION=f"Bearer {token}",
        )
        assert refused.status_code == 400, (content_type, refused.content)
        assert refused.json()["code"] == "invalid_multipart"


@pytest.mark.django_db(transaction=True)
async def test_identity_in_the_event_loop_reads_the_profile_loaded_with_the_user(
    settings: Any, tmp_path: Path
) -> None:
    from channels.db import database_sync_to_async
    from django.db import connections

    from collab.accounts.profiles import set_avatar
    from collab.accounts.services import authenticate_token, issue_token

    def setup() -> tuple[int, str, str]:
        user = User.objects.create_user(f"loop{uuid.uuid4().hex[:8]}", password="x")
        profile = set_avatar(user.pk, image_bytes("PNG"))
        return user.pk, issue_token(user).raw, profile.avatar_version

    try:
        user_id, raw, version = await database_sync_to_async(setup)()
        auth = await database_sync_to_async(authenticate_token)(raw)
        assert auth is not None
        identity = identity_of(auth.user)  # no query here: one would raise in the event loop
        assert identity["avatar_url"].endswith(f"/avatar?v={version}")
        unloaded = await database_sync_to_async(User.objects.get)(pk=user_id)
        assert identity_of(unloaded)["avatar_url"] is None  # not loaded: not queried either
        assert identity_of(unloaded)["color"] == identity["color"]
    finally:
        await database_sync_to_async(connections.close_all)()
