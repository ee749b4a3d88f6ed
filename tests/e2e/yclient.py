"""Drives tests/node/yclient.mjs: a real Yjs doc with a stock y-websocket WebsocketProvider."""

from __future__ import annotations

import itertools
import json
import queue
import subprocess
import threading
import time
from pathlib import Path
from typing import Any

NODE_DIR = Path(__file__).resolve().parents[1] / "node"


class YClientError(AssertionError):
    pass


class YClient:
    def __init__(self, url: str, document_id: str, token: str | None, name: str = "", *extra: str) -> None:
        args = ["node", str(NODE_DIR / "yclient.mjs"), "--url", url, "--doc", document_id]
        if token:
            args += ["--token", token]
        if name:
            args += ["--name", name]
        args += list(extra)
        self.name = name or document_id
        self.process = subprocess.Popen(
            args,
            cwd=NODE_DIR,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
            bufsize=1,
        )
        self._ids = itertools.count(1)
        self._replies: dict[Any, dict[str, Any]] = {}
        self._cond = threading.Condition()
        self.events: queue.Queue[dict[str, Any]] = queue.Queue()
        self.closes: list[dict[str, Any]] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            try:
                message = json.loads(line)
            except ValueError:
                continue
            if "event" in message:
                if message["event"] == "close":
                    self.closes.append(message)
                self.events.put(message)
                continue
            with self._cond:
                self._replies[message.get("id")] = message
                self._cond.notify_all()

    def call(self, cmd: str, timeout: float = 30.0, **args: Any) -> dict[str, Any]:
        request_id = next(self._ids)
        assert self.process.stdin is not None
        self.process.stdin.write(json.dumps({"id": request_id, "cmd": cmd, **args}) + "\n")
        self.process.stdin.flush()
        deadline = time.monotonic() + timeout
        with self._cond:
            while request_id not in self._replies:
                remaining = deadline - time.monotonic()
                if remaining <= 0 or self.process.poll() is not None:
                    raise YClientError(f"{self.name}: no reply to {cmd}")
                self._cond.wait(min(remaining, 0.5))
            reply = self._replies.pop(request_id)
        if not reply.get("ok"):
            raise YClientError(f"{self.name}: {cmd} failed: {reply.get('error')}")
        return reply

    # conveniences
    def wait_synced(self, timeout_ms: int = 15000) -> None:
        self.call("wait_synced", timeout=timeout_ms / 1000 + 5, timeout_ms=timeout_ms)

    def text(self) -> str:
        text: str = self.call("text")["text"]
        return text

    def wait_text(
        self, equals: str | None = None, contains: str | None = None, timeout_ms: int = 15000
    ) -> str:
        args: dict[str, Any] = {"timeout_ms": timeout_ms}
        if equals is not None:
            args["equals"] = equals
        if contains is not None:
            args["contains"] = contains
        text: str = self.call("wait_text", timeout=timeout_ms / 1000 + 5, **args)["text"]
        return text

    def wait_close(self, timeout: float = 15.0) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.closes:
                return self.closes[0]
            time.sleep(0.05)
        raise YClientError(f"{self.name}: the server did not close the connection")

    def close(self) -> None:
        if self.process.poll() is None:
            try:
                assert self.process.stdin is not None
                self.process.stdin.close()
                self.process.wait(5)
            except (OSError, subprocess.TimeoutExpired):
                self.process.kill()
                self.process.wait()
