"""The e-mails accounts send: a password-reset link, as plain text and HTML.

Sent through Django's e-mail backend (EMAIL_* settings, docs/operations.md). The link
holds a secret: it is never logged, and a failure to send is logged without it.
"""

from __future__ import annotations

import logging
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.tokens import default_token_generator
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

logger = logging.getLogger(__name__)

SUBJECT = "Reset your password"


def reset_link(user: Any, base_url: str) -> str:
    """`{base_url}/reset-password/{uid}/{token}`: the SPA's page that posts them to confirm."""
    uid = urlsafe_base64_encode(force_bytes(user.pk))
    token = default_token_generator.make_token(user)
    return f"{base_url}/reset-password/{uid}/{token}"


def send_password_reset(user_id: int, base_url: str) -> bool:
    """Mail a fresh reset link to the user; False (logged) when it could not be sent."""
    user = get_user_model().objects.filter(pk=user_id, is_active=True).first()
    if user is None or not user.email:
        return False
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
    try:
        message.send()
    except Exception as exc:  # SMTP down or refusing: the caller's answer must not change
        logger.warning("password reset e-mail to user %s could not be sent: %s", user_id, type(exc).__name__)
        return False
    logger.info("password reset e-mail sent to user %s", user_id)  # never the link or the token
    return True
