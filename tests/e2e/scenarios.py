"""Set-ups and waits shared by the end-to-end tests."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from tests.e2e.servers import User, Worker, make_document, make_user
from tests.e2e.yclient import YClient


def wait_until(check: Callable[[], bool], within: float, what: str, every: float = 0.1) -> None:
    deadline = time.monotonic() + within
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(every)


@dataclass
class TwoPeople:
    alice: User
    bob: User
    document_id: str
    a: YClient  # alice's synced client
    b: YClient  # bob's synced client


def two_people_on(
    alice_worker: Worker,
    bob_worker: Worker,
    yclient: Callable[..., YClient],
    tag: str,
    bob_role: str = "editor",
    *client_flags: str,
) -> TwoPeople:
    """Alice owns a document shared with Bob; each has a synced Yjs client on the given worker."""
    alice, bob = make_user(bob_worker, f"alice{tag}"), make_user(bob_worker, f"bob{tag}")
    document_id = make_document(bob_worker, alice, {bob.username: bob_role})
    a = yclient(alice_worker.ws_docs, document_id, alice.token, "alice", *client_flags)
    b = yclient(bob_worker.ws_docs, document_id, bob.token, "bob")
    a.wait_synced()
    b.wait_synced()
    return TwoPeople(alice, bob, document_id, a, b)
