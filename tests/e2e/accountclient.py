"""A browser's side of the account API for end-to-end tests: cookies, CSRF and session sockets."""

from __future__ import annotations

import http.client
import json
import time
from http.cookies import SimpleCookie
from typing import Any

from websockets.exceptions import ConnectionClosed
from websockets.sync.client import ClientConnection, connect

from tests.e2e.servers import Worker


class Browser:
    """HTTP with a cookie jar and the CSRF header, like the app in a browser, on one worker."""

    def __init__(self, worker: Worker, user_agent: str = "E2E-Browser/1.0") -> None:
        self.worker = worker
        self.user_agent = user_agent
        self.cookies: dict[str, str] = {}

    def request(self, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        conn = http.client.HTTPConnection("127.0.0.1", self.worker.port, timeout=30)
        headers = {"Content-Type": "application/json", "User-Agent": self.user_agent}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{name}={value}" for name, value in self.cookies.items())
        if "csrftoken" in self.cookies:
            headers["X-CSRFToken"] = self.cookies["csrftoken"]
        conn.request(method, path, body=json.dumps(body) if body is not None else None, headers=headers)
        response = conn.getresponse()
        raw = response.read()
        for header in response.msg.get_all("Set-Cookie") or []:
            for name, morsel in SimpleCookie(header).items():
                if morsel["max-age"] == "0" or not morsel.value:
                    self.cookies.pop(name, None)
                else:
                    self.cookies[name] = morsel.value
        conn.close()
        if response.getheader("Content-Type", "").startswith("application/json") and raw:
            return response.status, json.loads(raw)
        return response.status, raw

    def login(self, username: str, password: str) -> Browser:
        self.request("GET", "/api/auth/me")  # the CSRF cookie
        status, body = self.request("POST", "/api/auth/login", {"username": username, "password": password})
        assert status == 200, body
        return self

    def signed_in(self) -> bool:
        return self.request("GET", "/api/auth/me")[0] == 200

    def current_session(self) -> int:
        status, rows = self.request("GET", "/api/auth/sessions")
        assert status == 200, rows
        found: int = next(row["id"] for row in rows if row["current"])
        return found

    def socket(self, path: str) -> ClientConnection:
        """A websocket opened with this browser's session cookie, from the page's own origin."""
        return connect(
            f"ws://127.0.0.1:{self.worker.port}{path}",
            additional_headers={
                "Cookie": f"sessionid={self.cookies['sessionid']}",
                "Origin": f"http://127.0.0.1:{self.worker.port}",
                "User-Agent": self.user_agent,
            },
            open_timeout=10,
        )


def close_code(socket: ClientConnection, within: float) -> int | None:
    """The close code the server sends within `within` seconds (None: still open then)."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        try:
            socket.recv(timeout=max(0.05, deadline - time.monotonic()))
        except TimeoutError:
            return None
        except ConnectionClosed as closed:
            return closed.rcvd.code if closed.rcvd is not None else 1006
    return None
