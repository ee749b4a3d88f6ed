"""Every socket is admitted by the same checks, in the same order, with the same refusals."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from collab.realtime.close_codes import CloseCode
from collab.realtime.runtime import ConnectionCount
from collab.realtime.socket_admission import admission_refusal


def scope(authenticated: bool = True, origin_allowed: bool = True) -> dict[str, Any]:
    return {"user": SimpleNamespace(is_authenticated=authenticated), "origin_allowed": origin_allowed}


def code_of(refused: Any) -> int | None:
    return None if refused is None else int(refused.code)


def test_an_authenticated_socket_from_an_allowed_origin_is_admitted() -> None:
    assert admission_refusal(scope(), ConnectionCount()) is None


def test_authentication_is_checked_before_the_origin() -> None:
    assert (
        code_of(admission_refusal(scope(authenticated=False, origin_allowed=False), ConnectionCount()))
        == 4401
    )
    assert code_of(admission_refusal({"origin_allowed": True}, ConnectionCount())) == 4401  # no user at all
    refused = admission_refusal(scope(origin_allowed=False), ConnectionCount())
    assert (
        refused is not None and refused.code == CloseCode.FORBIDDEN and refused.reason == "origin not allowed"
    )


def test_a_full_worker_refuses_first_and_says_retry() -> None:
    refused = admission_refusal(scope(authenticated=False), ConnectionCount(limit=0))
    assert refused is not None and refused.code == CloseCode.BUSY and "retry" in refused.reason
