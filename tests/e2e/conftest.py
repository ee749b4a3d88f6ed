"""Fixtures for end-to-end tests: a database and Redis prefix per test module, real workers."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.conftest import required_env
from tests.e2e.servers import Deployment, Worker, create_database, delete_redis_prefix
from tests.e2e.smtp import SmtpServer
from tests.e2e.yclient import YClient

# Fast enough for tests, same code paths as production.
TEST_ENV = {
    "COLLAB_ROOM_GRACE_SECONDS": "1",
    "COLLAB_ANTIENTROPY_SECONDS": "1",
    "COLLAB_PRESENCE_HEARTBEAT_SECONDS": "0.5",
    "COLLAB_PRESENCE_TTL_SECONDS": "3",
    "COLLAB_PRESENCE_SWEEP_SECONDS": "0.3",
    # Tests post hundreds of messages in a burst; the limits have tests of their own.
    "COLLAB_CHAT_RATE": "100000/10",
    "COLLAB_CHAT_FRAMES_PER_SECOND": "100000",
    # Every test user registers and logs in from 127.0.0.1; the throttle has tests of its own.
    "COLLAB_AUTH_ADDRESS_RATE": "100000/900",
    "COLLAB_AUTH_ACCOUNT_RATE": "100000/900",
}


@pytest.fixture(scope="module")
def deployment(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployment]:
    database_url, drop_database = create_database(required_env("DATABASE_URL"))
    redis_url = required_env("REDIS_URL")
    # Unique per run: parallel test runs may share one Redis database.
    prefix = f"collab-e2e-{uuid.uuid4().hex[:12]}"
    deployment = Deployment(database_url, redis_url, prefix, dict(TEST_ENV))
    deployment.migrate()
    yield deployment
    delete_redis_prefix(redis_url, prefix)
    drop_database()


@pytest.fixture
def start_worker(deployment: Deployment, tmp_path: Path) -> Iterator[Callable[..., Worker]]:
    workers: list[Worker] = []

    def start(app: str = "asgi:application", **env: str) -> Worker:
        worker = Worker(deployment, tmp_path, app, **env).start()
        workers.append(worker)
        return worker

    yield start
    for worker in workers:
        worker.stop()


@pytest.fixture
def smtp_server() -> Iterator[SmtpServer]:
    """A local SMTP server (tests/e2e/smtp.py); pass `smtp_server.env` to the workers."""
    with SmtpServer() as server:
        yield server


@pytest.fixture
def yclient() -> Iterator[Callable[..., YClient]]:
    clients: list[YClient] = []

    def connect(url: str, document_id: str, token: str | None, name: str = "", *extra: str) -> YClient:
        client = YClient(url, document_id, token, name, *extra)
        clients.append(client)
        return client

    yield connect
    for client in clients:
        client.close()
