"""Hostile HTTP on every operation of /api/openapi.json, and requests that never finish.

For each operation the schema lists: bodies that are not JSON, not UTF-8, nested 100 000
deep, 3 MiB large, of the wrong shape, with every field of the wrong type, huge numbers,
NUL characters and lone surrogates; wrong and missing content types; junk in every path
and query parameter; with and without a token. Every answer is below 500, and every error
under /api/ is JSON (`{"detail", "code"}`), never an HTML page.

Requests that never finish: a body that stops short of its Content-Length gets 408 after
COLLAB_HTTP_BODY_TIMEOUT, and past COLLAB_MAX_PENDING_CONNECTIONS idle connections the
longest-waiting ones are dropped at once, while others are served.
"""

from __future__ import annotations

import asyncio
import http.client
import json
import time
from collections import Counter
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import quote

import pytest

from tests.e2e.accountclient import Browser
from tests.e2e.chatclient import ChatClient, make_room
from tests.e2e.servers import User, Worker, make_document, make_user

StartWorker = Callable[..., Worker]

MIB = 1024 * 1024
JSON = "application/json"
# Raw JSON texts for "a value of the wrong kind" (1e999 and 2**70 cannot come from json.dumps).
WRONG_VALUES = [
    b"null",
    b"true",
    b"[]",
    b"{}",
    b'""',
    b"1e999",
    str(2**70).encode(),
    b'"\\u0000"',
    b'"\\ud800"',
]
WHOLE_BODIES: list[tuple[str, bytes, str | None]] = [
    ("empty", b"", JSON),
    ("not JSON", b"{", JSON),
    ("not UTF-8", b'{"name": "\xff\xfe"}', JSON),
    ("a BOM", b'\xef\xbb\xbf{"name": "x"}', JSON),
    ("deep arrays", b"[" * 100_000 + b"]" * 100_000, JSON),
    ("deep objects", b'{"a":' * 50_000 + b"1" + b"}" * 50_000, JSON),
    ("large", b'{"title": "' + b"x" * (2 * MIB) + b'", "name": "x"}', JSON),
    # Over DATA_UPLOAD_MAX_MEMORY_SIZE (2.5 MB): 413 too_large (was a 500).
    ("over the upload limit", b'{"title": "' + b"x" * (3 * MIB) + b'", "name": "x"}', JSON),
    ("an array", b"[]", JSON),
    ("null", b"null", JSON),
    ("a number", b"1e999", JSON),
    ("a string", b'"x"', JSON),
    ("two values", b"{}{}", JSON),
    ("text/plain", b'{"title": "x"}', "text/plain"),
    ("xml", b"<title>x</title>", "application/xml"),
    ("multipart without boundary", b"--x\r\n\r\n", "multipart/form-data"),
    (
        "multipart junk",
        b"--b\r\nContent-Disposition: form-data\r\n\r\nx\r\n--b--",
        "multipart/form-data; boundary=b",
    ),
    ("form", b"title=x&%%%&name", "application/x-www-form-urlencoded"),
    ("no content type", b'{"title": "x"}', None),
    ("utf-16", '{"title": "x"}'.encode("utf-16"), "application/json; charset=utf-16"),
    ("bad charset", b'{"title": "x"}', "application/json; charset=nope-42"),
]
PATH_JUNK = [
    "0",
    "-1",
    "99999999999999999999999",
    "1e3",
    "not-a-number",
    "%00",
    "%F0%9F%8C%8D",
    "..%2F..",
    "x" * 3000,
]
QUERY_JUNK = ["", "-1", "1e999", "99999999999999999999999", "%00", "%FF", "x" * 5000, "true", "[]"]


def openapi(worker: Worker) -> dict[str, Any]:
    status, schema = worker.request("GET", "/api/openapi.json")
    assert status == 200 and isinstance(schema, dict)
    return schema


def resolve(schema: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in node:
        name = node["$ref"].rsplit("/", 1)[-1]
        node = schema["components"]["schemas"][name]
    return node


def body_fields(schema: dict[str, Any], operation: dict[str, Any]) -> list[str]:
    content = operation.get("requestBody", {}).get("content", {}).get(JSON, {})
    return list(resolve(schema, content.get("schema", {})).get("properties", {})) if content else []


class Api:
    """Raw requests to one worker; every answer is recorded with what was sent."""

    def __init__(self, worker: Worker) -> None:
        self.worker = worker
        self.problems: list[str] = []
        self.statuses: Counter[int] = Counter()

    def send(
        self,
        method: str,
        path: str,
        body: bytes | None,
        content_type: str | None,
        token: str | None,
        what: str,
    ) -> int:
        conn = http.client.HTTPConnection("127.0.0.1", self.worker.port, timeout=60)
        headers = {}
        if content_type is not None:
            headers["Content-Type"] = content_type
        if token:
            headers["Authorization"] = f"Bearer {token}"
        try:
            conn.request(method, path, body=body, headers=headers)
            response = conn.getresponse()
            raw = response.read()
        except (OSError, http.client.HTTPException) as exc:
            self.problems.append(f"{method} {path[:80]} ({what}): no answer: {exc!r}")
            return 0
        finally:
            conn.close()
        self.statuses[response.status] += 1
        kind = response.getheader("Content-Type", "")
        shown = f"{method} {path[:80]} ({what}) -> {response.status} {kind} {raw[:120]!r}"
        if response.status >= 500:
            self.problems.append(shown)
        elif response.status >= 400 and raw and not kind.startswith(JSON):
            self.problems.append(f"not a JSON error: {shown}")
        elif response.status >= 400 and raw:
            error = json.loads(raw)
            if not isinstance(error, dict) or "detail" not in error:
                self.problems.append(f"not a {{detail, code}} error: {shown}")
        return response.status


def field_bodies(fields: list[str]) -> Iterator[tuple[str, bytes]]:
    """Each field with each wrong value, the others right enough to get past the shape."""
    right = {name: b'"x"' for name in fields}
    for name in fields:
        for value in WRONG_VALUES:
            parts = [
                json.dumps(key).encode() + b": " + (value if key == name else right[key]) for key in fields
            ]
            yield f"{name}={value[:20].decode()}", b"{" + b", ".join(parts) + b"}"
    if fields:
        yield (
            "every field a huge string",
            b"{" + b", ".join(json.dumps(k).encode() + b': "' + b"y" * 100_000 + b'"' for k in fields) + b"}",
        )


@pytest.fixture
def scene(start_worker: StartWorker) -> tuple[Worker, User, dict[str, str]]:
    worker = start_worker(COLLAB_AUTH_ACCOUNT_RATE="100000/900", COLLAB_AUTH_ADDRESS_RATE="100000/900")
    alice, bob = make_user(worker, "alicehh"), make_user(worker, "bobhh")
    document_id = make_document(worker, alice, {bob.username: "editor"})
    room_id = make_room(worker, alice, bob, private=False)

    async def post() -> int:
        client = await ChatClient.open(worker, room_id, alice)
        ack = await client.post("a message")
        await client.socket.close()
        return int(ack["id"])

    message_id = asyncio.run(post())
    status, spare = worker.request(
        "POST", "/api/auth/token", {"username": alice.username, "password": alice.password, "name": "spare"}
    )
    assert status == 200, spare
    browser = Browser(worker).login(alice.username, alice.password)  # a browser session to name
    params = {
        "document_id": document_id,
        "room_id": str(room_id),
        "message_id": str(message_id),
        "username": bob.username,
        "token_id": str(spare["id"]),
        "session_id": str(browser.current_session()),
    }
    return worker, alice, params


def ordered(schema: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    """Every operation; the ones that remove things or end the session last."""
    operations = [
        (method.upper(), path, operation)
        for path, methods in schema["paths"].items()
        for method, operation in methods.items()
    ]
    last = {"DELETE": 1, "POST /api/auth/logout": 2}
    return sorted(operations, key=lambda op: last.get(f"{op[0]} {op[1]}", last.get(op[0], 0)))


def test_every_operation_answers_hostile_requests_with_json_errors_below_500(
    scene: tuple[Worker, User, dict[str, str]],
) -> None:
    worker, alice, params = scene
    schema = openapi(worker)
    api = Api(worker)
    operations = ordered(schema)
    assert len(operations) >= 30, [f"{m} {p}" for m, p, _ in operations]
    for method, template, operation in operations:
        path = template.format(**{name: quote(value, safe="") for name, value in params.items()})
        query = [p["name"] for p in operation.get("parameters", []) if p.get("in") == "query"]
        token = alice.token if operation.get("security") else None
        # Without a token (or with a forged one), whatever the body.
        api.send(method, path, b'{"title": "x"}', JSON, None, "no token")
        api.send(method, path, b"{", JSON, "forged-token", "forged token")
        if method in ("POST", "PATCH", "PUT", "DELETE"):
            for what, body, content_type in WHOLE_BODIES:
                api.send(method, path, body, content_type, token, what)
            for what, body in field_bodies(body_fields(schema, operation)):
                api.send(method, path, body, JSON, token, what)
        else:
            api.send(method, path, b"[" * 100_000, JSON, token, "a body on a read")
        for name in query:
            for junk in QUERY_JUNK:
                api.send(method, f"{path}?{name}={junk}", None, None, token, f"query {name}")
            api.send(method, f"{path}?{name}=1&{name}=2&{name}=x", None, None, token, f"query {name} thrice")
        for name in params:
            if "{" + name + "}" in template:
                for junk in PATH_JUNK:
                    junk_path = template.format(**{**params, name: junk})
                    api.send(method, junk_path, b"{}", JSON, token, f"path {name}")
        if (method, template) == ("POST", "/api/auth/logout"):
            break  # the token is revoked now; logout was the last operation
    print(f"{sum(api.statuses.values())} requests: {dict(sorted(api.statuses.items()))}")
    assert not api.problems, f"{len(api.problems)} bad answers:\n" + "\n".join(api.problems[:25])
    status, body = worker.request("GET", "/healthz")
    assert status == 200, body


def test_requests_that_never_finish_are_cut_off_while_others_are_served(start_worker: StartWorker) -> None:
    worker = start_worker(
        COLLAB_HTTP_HEADER_TIMEOUT="3", COLLAB_HTTP_BODY_TIMEOUT="2", COLLAB_MAX_PENDING_CONNECTIONS="50"
    )
    alice = make_user(worker, "aliceslow")
    room_id = make_room(worker, alice)

    async def short_body() -> tuple[bytes, float]:
        """A login whose body stops short of its Content-Length."""
        reader, writer = await asyncio.open_connection("127.0.0.1", worker.port)
        started = time.monotonic()
        writer.write(
            b"POST /api/auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            b'Content-Length: 10000\r\n\r\n{"username": '
        )
        await writer.drain()
        answer = await asyncio.wait_for(reader.read(), 15)
        writer.close()
        return answer, time.monotonic() - started

    async def idle() -> tuple[bytes | None, float]:
        reader, writer = await asyncio.open_connection("127.0.0.1", worker.port)
        started = time.monotonic()
        try:
            answer: bytes | None = await asyncio.wait_for(reader.read(), 15)
        except ConnectionResetError:
            answer = None  # dropped: the pending limit
        writer.close()
        return answer, time.monotonic() - started

    async def scenario() -> None:
        bodies = [asyncio.ensure_future(short_body()) for _ in range(20)]
        idlers = []
        for _ in range(150):  # three times the pending limit
            idlers.append(asyncio.ensure_future(idle()))
            await asyncio.sleep(0.005)
        # Served meanwhile: a REST call and a chat socket.
        status, _ = await asyncio.to_thread(worker.request, "GET", "/api/auth/me", None, alice.token)
        assert status == 200
        client = await ChatClient.open(worker, room_id, alice)
        ack = await client.post("still served")
        assert ack["seq"] == 1
        await client.socket.close()
        for answer, seconds in await asyncio.gather(*bodies):
            assert answer.startswith(b"HTTP/1.1 408") and 1.5 < seconds < 6, (answer[:40], seconds)
        outcomes = await asyncio.gather(*idlers)
        assert all(seconds < 8 for _, seconds in outcomes), max(seconds for _, seconds in outcomes)
        dropped = sum(1 for _, seconds in outcomes if seconds < 2)
        assert dropped >= 90, f"only {dropped} of 150 idle connections dropped past the limit of 50"

    asyncio.run(scenario())
    status, body = worker.request("GET", "/healthz")
    assert status == 200, body
