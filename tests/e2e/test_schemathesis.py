"""Schemathesis against /api/openapi.json of a real worker: no request may get a 5xx.

Every operation of the schema, with up to MAX_EXAMPLES generated requests each (valid and
invalid bodies, parameters and headers from the schema), deterministic (hypothesis'
derandomize, no example database), authenticated with a bearer token. The one check is
`not_a_server_error`. The worker's brute-force limits are raised (they have tests of their
own): the generated logins and registrations would otherwise lock this address out after
50 failures, and every later case would only see 429. A generated logout or token deletion
may revoke the test's token; a new one is issued before the next case.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error

from tests.e2e.servers import Deployment, User, Worker, make_document, make_user

MAX_EXAMPLES = 30


class Credentials:
    """The test's user and a token that still works."""

    def __init__(self, worker: Worker, user: User) -> None:
        self.worker, self.user, self.token = worker, user, user.token

    def header(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    def renew_if_revoked(self) -> None:
        status, _ = self.worker.request("GET", "/api/auth/me", token=self.token)
        if status == 401:
            status, body = self.worker.request(
                "POST", "/api/auth/token", {"username": self.user.username, "password": self.user.password}
            )
            assert status == 200, body
            self.token = body["token"]


# The operations that can revoke the token they are called with.
REVOKING = {("POST", "/auth/logout"), ("DELETE", "/auth/tokens/{token_id}")}


@pytest.fixture(scope="module")
def api_worker(deployment: Deployment, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Worker]:
    worker = Worker(
        deployment,
        Path(tmp_path_factory.mktemp("schemathesis")),
        COLLAB_AUTH_ACCOUNT_RATE="100000/900",
        COLLAB_AUTH_ADDRESS_RATE="100000/900",
    ).start()
    yield worker
    worker.stop()


@pytest.fixture(scope="module")
def credentials(api_worker: Worker) -> Credentials:
    user = make_user(api_worker, "schemathesis")
    make_document(api_worker, user)  # something for the reads to find
    status, body = api_worker.request("POST", "/api/chat/rooms", {"name": "st", "private": False}, user.token)
    assert status == 201, body
    return Credentials(api_worker, user)


@pytest.fixture(scope="module")
def api_schema(api_worker: Worker) -> Any:
    return schemathesis.openapi.from_url(f"{api_worker.http_base}/api/openapi.json")


schema = schemathesis.pytest.from_fixture("api_schema")


@schema.parametrize()
@settings(
    max_examples=MAX_EXAMPLES,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=list(HealthCheck),
)
def test_no_request_gets_a_server_error(case: Any, api_worker: Worker, credentials: Credentials) -> None:
    case.call_and_validate(
        base_url=api_worker.http_base, headers=credentials.header(), checks=[not_a_server_error]
    )
    if (case.method.upper(), case.path.removeprefix("/api")) in REVOKING:
        credentials.renew_if_revoked()
