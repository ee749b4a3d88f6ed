"""Our password rule, used with Django's validators (settings.AUTH_PASSWORD_VALIDATORS).

A password is accepted when it is at least `passphrase_length` characters long
(default 16: a passphrase of plain words is fine), or when it mixes at least
`min_classes` (default 3) of the four character classes: lowercase letters,
uppercase letters, digits, everything else (symbols, spaces, letters of scripts
without case). The minimum length itself is Django's MinimumLengthValidator
(COLLAB_PASSWORD_MIN_LENGTH, default 8), the similarity to the username and
e-mail is Django's UserAttributeSimilarityValidator, and the 20,000 most common
passwords are Django's CommonPasswordValidator. A password equal to the username
(ignoring case) is always refused here too, whatever the similarity setting.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError


def character_classes(password: str) -> int:
    lower = upper = digit = other = False
    for char in password:
        if char.isdigit():
            digit = True
        elif char.islower():
            lower = True
        elif char.isupper():
            upper = True
        else:
            other = True
    return lower + upper + digit + other


class ComplexityValidator:
    def __init__(self, passphrase_length: int = 16, min_classes: int = 3) -> None:
        self.passphrase_length = passphrase_length
        self.min_classes = min_classes

    def validate(self, password: str, user: Any = None) -> None:
        username = getattr(user, "username", None) if user is not None else None
        if isinstance(username, str) and username and password.casefold() == username.casefold():
            raise ValidationError("The password must not be the username.", code="password_is_username")
        if len(password) >= self.passphrase_length:
            return
        if character_classes(password) < self.min_classes:
            raise ValidationError(self.get_help_text(), code="password_too_simple")

    def get_help_text(self) -> str:
        return (
            f"A password shorter than {self.passphrase_length} characters must mix at least "
            f"{self.min_classes} of: lowercase letters, uppercase letters, digits, other characters."
        )
