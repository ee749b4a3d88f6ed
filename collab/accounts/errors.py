"""The error every account service raises: a message for people, a code for programs."""

from __future__ import annotations


class AccountError(ValueError):
    """A request that breaks an account rule; `code` and `status` are what the API answers."""

    def __init__(self, message: str, code: str = "invalid_request", status: int = 400) -> None:
        super().__init__(message)
        self.code = code
        self.status = status
