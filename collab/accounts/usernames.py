"""Usernames: one canonical form, one documented character set.

A username is stored in its canonical form: NFKC (full-width and other
compatibility forms become their plain equivalents), then case-folded (and NFKC
again, since folding can produce uncomposed sequences). Full-width `ALICE`,
`Alice` and `alice` are therefore the same name, stored as `alice`; every lookup
(login, token, member routes) canonicalises its input the same way and then
compares exactly, which is the same on every database (SQLite's and
PostgreSQL's `lower()` disagree outside ASCII).

Allowed characters (docs/api.md#usernames): Unicode letters and decimal digits,
`.`, `_` and `-`; the combining marks a letter needs in scripts such as
Devanagari or Thai (at most four after a letter). 1 to 150 characters, at least
one of them a letter or digit. Everything else is refused: spaces, `/`, `@`,
symbols, control, zero-width and bidirectional formatting characters.

The data migration `collab/migrations/0003_normalise_usernames.py` holds a copy
of these rules (migrations must not import code that changes later): keep the
two in step.
"""

from __future__ import annotations

import unicodedata

MAX_LENGTH = 150
PUNCTUATION = frozenset("._-")
LETTER_CATEGORIES = frozenset({"Lu", "Ll", "Lt", "Lm", "Lo"})
MARK_CATEGORIES = frozenset({"Mn", "Mc"})
MAX_MARKS_PER_LETTER = 4


class UsernameError(ValueError):
    pass


def canonical_username(raw: str) -> str:
    """The canonical form of a name typed by someone: what is stored and compared.

    Does not validate: a name that cannot be valid simply matches no account.
    """
    text = unicodedata.normalize("NFKC", raw).strip()
    return unicodedata.normalize("NFKC", text.casefold())


def username_problem(name: str) -> str | None:
    """Why a canonical name is not allowed, or None when it is."""
    if not name:
        return "username must not be empty"
    if len(name) > MAX_LENGTH:
        return f"username must be at most {MAX_LENGTH} characters"
    marks = 0
    previous_is_letter = False
    has_letter_or_digit = False
    for char in name:
        category = unicodedata.category(char)
        if category in MARK_CATEGORIES and previous_is_letter and marks < MAX_MARKS_PER_LETTER:
            marks += 1
            continue
        marks = 0
        previous_is_letter = category in LETTER_CATEGORIES
        if previous_is_letter or category == "Nd":
            has_letter_or_digit = True
        elif char not in PUNCTUATION:
            return (
                f"username must not contain {_describe(char)}; allowed are letters, digits, '.', '_' and '-'"
            )
    if not has_letter_or_digit:
        return "username must contain a letter or a digit"
    return None


def validate_username(raw: str) -> str:
    """The canonical form of `raw`, or UsernameError saying what is wrong with it."""
    name = canonical_username(raw)
    problem = username_problem(name)
    if problem is not None:
        raise UsernameError(problem)
    return name


def _describe(char: str) -> str:
    if char.isspace():
        return "spaces"
    if unicodedata.category(char) in {"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"}:
        return f"the invisible or control character U+{ord(char):04X}"
    return f"{char!r}"
