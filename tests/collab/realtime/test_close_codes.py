"""The close codes the server sends are the ones docs/api.md documents, no more and no fewer."""

from __future__ import annotations

import re
from pathlib import Path

from collab.realtime.close_codes import RETRYABLE, CloseCode

API_DOC = Path(__file__).resolve().parents[3] / "docs" / "api.md"


def documented_codes() -> set[int]:
    text = API_DOC.read_text()
    section = text[text.index("## Close codes") :]
    return {int(code) for code in re.findall(r"^\| (\d{4}) \|", section, flags=re.M)}


def test_every_close_code_is_documented_and_every_documented_one_exists() -> None:
    # 1006 is what a client sees when a socket is dropped without a close frame.
    assert documented_codes() == {int(code) for code in CloseCode} | {1006}


def test_the_retryable_codes_are_the_documented_ones() -> None:
    assert {int(code) for code in RETRYABLE} == {1012, 4500, 4503, 4507}
    assert CloseCode.BUSY.retryable and not CloseCode.FORBIDDEN.retryable
