"""Awareness across workers: identities stamped by the server, ghosts expire after a crash."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from tests.e2e.scenarios import two_people_on, wait_until
from tests.e2e.servers import Worker
from tests.e2e.yclient import YClient

StartWorker = Callable[..., Worker]
Connect = Callable[..., YClient]

AWARENESS_TIMEOUT = 6.0


def remote_states(client: YClient) -> dict[str, Any]:
    reply = client.call("awareness")
    own = str(reply["client_id"])
    return {cid: state for cid, state in reply["states"].items() if cid != own and state}


def with_cursor(client: YClient) -> dict[str, Any]:
    return {cid: state for cid, state in remote_states(client).items() if "cursor" in state}


def test_presence_crosses_workers_with_server_stamped_identity(
    start_worker: StartWorker, yclient: Connect
) -> None:
    first, second = start_worker(), start_worker()
    people = two_people_on(first, second, yclient, "5")
    a, b = people.a, people.b
    a.call("awareness_set", state={"user": {"name": "bob5", "color": "#fff"}, "cursor": {"anchor": 3}})
    wait_until(lambda: with_cursor(b), 10, "alice's presence on the other worker")
    (state,) = with_cursor(b).values()
    assert state["user"]["name"] == "alice5"  # not the name alice claimed
    assert state["cursor"] == {"anchor": 3}
    a.call("disconnect")
    wait_until(lambda: not remote_states(b), 10, "alice's presence to go when she leaves")


def test_a_killed_workers_clients_vanish_within_the_awareness_timeout(
    start_worker: StartWorker, yclient: Connect
) -> None:
    env = {"COLLAB_AWARENESS_TIMEOUT_SECONDS": str(AWARENESS_TIMEOUT)}
    doomed, survivor = start_worker(**env), start_worker(**env)
    people = two_people_on(doomed, survivor, yclient, "6", "editor", "--no-reconnect")
    a, b, bob, document_id = people.a, people.b, people.bob, people.document_id
    a.call("awareness_set", state={"cursor": {"anchor": 1}})
    wait_until(lambda: with_cursor(b), 10, "alice's presence on the survivor")
    doomed.kill()
    killed_at = time.monotonic()
    # Right after the crash the survivor still holds her state: a newcomer is told about it...
    early = yclient(survivor.ws_docs, document_id, bob.token, "early")
    early.wait_synced()
    wait_until(lambda: with_cursor(early), 5, "the not yet expired state")
    # ...until the timeout passes without renewal; then it is gone for everyone.
    wait_until(lambda: not with_cursor(b), AWARENESS_TIMEOUT + 5, "the ghost to expire")
    assert time.monotonic() - killed_at < AWARENESS_TIMEOUT + 5
    late = yclient(survivor.ws_docs, document_id, bob.token, "late")
    late.wait_synced()
    time.sleep(1.0)
    assert not {
        cid: s for cid, s in remote_states(late).items() if "cursor" in s and s["cursor"] == {"anchor": 1}
    }
