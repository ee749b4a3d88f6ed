"""The e-mails accounts send: a password-reset link, as plain text and HTML."""

from __future__ import annotations

import logging

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string

from collab.accounts.credentials import reset_link

logger = logging.getLogger(__name__)

SUBJECT = "Reset your password"


def send_password_reset(user_id: int, base_url: str) -> None:
    user = get_user_model().objects.filter(pk=user_id, is_active=True).first()
    if user is None or not user.email:
        return
    context = {
        "username": user.get_username(),
        "link": reset_link(user, base_url),
        "site": base_url,
        "minutes": settings.PASSWORD_RESET_TIMEOUT // 60,
    }
    text = render_to_string("collab/password_reset_email.txt", context)
    html = render_to_string("collab/password_reset_email.html", context)
    message = EmailMultiAlternatives(SUBJECT, text, settings.DEFAULT_FROM_EMAIL, [user.email])
    message.attach_alternative(html, "text/html")
    message.send()
    logger.info("password reset e-mail sent to user %s", user_id)  # never the link or the token
