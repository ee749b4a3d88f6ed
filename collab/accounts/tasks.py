"""Celery tasks of accounts: the password-reset e-mail (run in process when no broker is set)."""

from __future__ import annotations

import smtplib

from celery import shared_task

from collab.accounts import mail


@shared_task(
    name="collab.accounts.send_password_reset",
    ignore_result=True,
    autoretry_for=(OSError, smtplib.SMTPException),
    retry_backoff=True,
    max_retries=5,
)
def send_password_reset(user_id: int, base_url: str) -> None:
    """Mail a fresh reset link to the user. The task carries no token: it makes one itself."""
    mail.send_password_reset(user_id, base_url)
