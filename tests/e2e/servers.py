"""Real daphne worker processes on a throw-away database, for end-to-end tests."""

from __future__ import annotations

import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import psycopg
import redis

REPO = Path(__file__).resolve().parents[2]
DAPHNE = str(Path(sys.executable).with_name("daphne"))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class Deployment:
    """What every worker of one test deployment shares: a database and a Redis prefix."""

    database_url: str
    redis_url: str
    redis_prefix: str
    extra_env: dict[str, str] = field(default_factory=dict)

    def env(self, **overrides: str) -> dict[str, str]:
        env = dict(os.environ)
        env.update(
            {
                "DATABASE_URL": self.database_url,
                "REDIS_URL": self.redis_url,
                "COLLAB_REDIS_PREFIX": self.redis_prefix,
                "COLLAB_ENV": "development",
                "LOG_LEVEL": "WARNING",
                "PYTHONUNBUFFERED": "1",
            }
        )
        env.update(self.extra_env)
        env.update(overrides)
        return env

    def migrate(self) -> None:
        subprocess.run(
            [sys.executable, "manage.py", "migrate", "--noinput", "-v0"],
            cwd=REPO,
            env=self.env(),
            check=True,
        )


def create_database(base_url: str) -> tuple[str, Any]:
    """A fresh database next to `base_url` (PostgreSQL) or a temp file (SQLite); returns (url, cleanup)."""
    if base_url.startswith("postgres"):
        name = f"collab_e2e_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(base_url, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        parts = urlsplit(base_url)
        url = urlunsplit((parts.scheme, parts.netloc, f"/{name}", parts.query, ""))

        def drop() -> None:
            with psycopg.connect(base_url, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

        return url, drop
    directory = tempfile.mkdtemp(prefix="collab-e2e-")
    return f"sqlite:///{directory}/db.sqlite3", lambda: None


def delete_redis_prefix(redis_url: str, prefix: str) -> None:
    client = redis.Redis.from_url(redis_url)
    keys = list(client.scan_iter(match=f"{prefix}*", count=1000))
    if keys:
        client.delete(*keys)


class Worker:
    """One `daphne asgi:application` process (or another application module, `app`)."""

    def __init__(
        self, deployment: Deployment, log_dir: Path, app: str = "asgi:application", **env: str
    ) -> None:
        self.deployment = deployment
        self.app = app
        self.port = free_port()
        self.env = deployment.env(**env)
        self.log_path = log_dir / f"daphne-{self.port}.log"
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def http_base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws_docs(self) -> str:
        return f"ws://127.0.0.1:{self.port}/ws/docs"

    def start(self, timeout: float = 30.0) -> Worker:
        log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            [DAPHNE, "-b", "127.0.0.1", "-p", str(self.port), self.app],
            cwd=REPO,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"daphne exited early; see {self.log_path}:\n{self.log_tail()}")
            try:
                status, _ = self.request("GET", "/healthz")
                if status == 200:
                    return self
            except OSError:
                pass
            time.sleep(0.1)
        raise RuntimeError(f"daphne did not become healthy; see {self.log_path}")

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def kill(self) -> None:
        """kill -9: no cleanup, no goodbye."""
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait()

    def log_tail(self, lines: int = 40) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def request(self, method: str, path: str, body: Any = None, token: str | None = None) -> tuple[int, Any]:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        headers = {"Content-Type": "application/json"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        conn.request(method, path, body=json.dumps(body) if body is not None else None, headers=headers)
        response = conn.getresponse()
        raw = response.read()
        conn.close()
        if response.getheader("Content-Type", "").startswith("application/json") and raw:
            return response.status, json.loads(raw)
        return response.status, raw


@dataclass
class User:
    username: str
    password: str
    token: str


def make_user(worker: Worker, username: str) -> User:
    password = f"pw-{uuid.uuid4().hex}"  # never similar to the username (the validator refuses that)
    status, body = worker.request("POST", "/api/auth/register", {"username": username, "password": password})
    assert status == 201, body
    status, body = worker.request("POST", "/api/auth/token", {"username": username, "password": password})
    assert status == 200, body
    return User(username, password, body["token"])


def make_document(
    worker: Worker, owner: User, members: dict[str, str] | None = None, title: str = "Doc"
) -> str:
    status, body = worker.request("POST", "/api/documents", {"title": title}, owner.token)
    assert status == 201, body
    document_id: str = body["id"]
    for username, role in (members or {}).items():
        status, body = worker.request(
            "POST", f"/api/documents/{document_id}/members", {"username": username, "role": role}, owner.token
        )
        assert status == 201, body
    return document_id
