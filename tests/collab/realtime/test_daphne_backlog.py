"""daphne listens with a backlog sized for reconnect storms."""

from __future__ import annotations

from typing import Any

from collab.realtime.daphne.backlog import raise_listen_backlog, with_backlog


def test_tcp_and_unix_endpoints_get_the_backlog_and_others_are_left_alone() -> None:
    described = ["tcp:port=8000:interface=127.0.0.1", "unix:/run/collab.sock", "fd:fileno=3"]
    assert with_backlog(described, 2048) == [
        "tcp:port=8000:interface=127.0.0.1:backlog=2048",
        "unix:/run/collab.sock:backlog=2048",
        "fd:fileno=3",
    ]
    assert with_backlog(["tcp:port=1:backlog=7"], 2048) == ["tcp:port=1:backlog=7"]  # explicit wins


def test_daphnes_command_line_builds_its_endpoints_with_the_setting(settings: Any) -> None:
    from daphne import cli

    settings.COLLAB_LISTEN_BACKLOG = 1234
    raise_listen_backlog()
    raise_listen_backlog()  # once only
    assert cli.build_endpoint_description_strings(host="127.0.0.1", port=8000) == [
        "tcp:port=8000:interface=127.0.0.1:backlog=1234"
    ]
