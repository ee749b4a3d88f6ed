"""Existing usernames into the canonical form and character set of collab/accounts/usernames.py.

The rules are copied here on purpose (a migration must keep doing what it did when
it was written). A name that is already canonical and allowed is kept. Any other
name is canonicalised (NFKC, case-fold), invisible and control characters are
dropped, other disallowed characters become `_`, and a name that is then empty or
holds no letter or digit becomes `user`. A name taken meanwhile gets a suffix
(`-2`, `-3`, ...); older accounts are served first. Not reversible (the old names
are not kept), so the reverse step does nothing.
"""

import unicodedata

from django.db import migrations

MAX_LENGTH = 150
PUNCTUATION = frozenset("._-")
LETTER_CATEGORIES = frozenset({"Lu", "Ll", "Lt", "Lm", "Lo"})
MARK_CATEGORIES = frozenset({"Mn", "Mc"})
MAX_MARKS_PER_LETTER = 4
INVISIBLE_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp", "Mn", "Me", "Mc"})


def canonical(raw):
    text = unicodedata.normalize("NFKC", raw).strip()
    return unicodedata.normalize("NFKC", text.casefold())


def allowed(name):
    if not name or len(name) > MAX_LENGTH:
        return False
    return canonical(name) == name and cleaned(name) == name


def cleaned(name):
    """The name with disallowed characters dropped (invisible ones) or replaced by `_`."""
    out = []
    marks = 0
    previous_is_letter = False
    for char in name:
        category = unicodedata.category(char)
        if category in MARK_CATEGORIES and previous_is_letter and marks < MAX_MARKS_PER_LETTER:
            marks += 1
            out.append(char)
            continue
        marks = 0
        previous_is_letter = category in LETTER_CATEGORIES
        if previous_is_letter or category == "Nd" or char in PUNCTUATION:
            out.append(char)
        elif category in INVISIBLE_CATEGORIES:
            continue
        else:
            out.append("_")
    result = "".join(out)
    if not any(unicodedata.category(c) in LETTER_CATEGORIES or unicodedata.category(c) == "Nd" for c in result):
        result = "user"
    return result


def fixed(raw):
    name = cleaned(canonical(raw))
    return name[:MAX_LENGTH]


def normalise_usernames(apps, schema_editor):
    User = apps.get_model("auth", "User")
    rows = list(User.objects.order_by("id").values_list("id", "username"))
    taken = {name for _, name in rows if allowed(name)}
    keep = {pk for pk, name in rows if allowed(name)}
    for pk, name in rows:
        if pk in keep:
            continue
        base = fixed(name)
        candidate = base
        number = 1
        while candidate in taken:
            number += 1
            suffix = f"-{number}"
            candidate = base[: MAX_LENGTH - len(suffix)] + suffix
        taken.add(candidate)
        User.objects.filter(pk=pk).update(username=candidate)


class Migration(migrations.Migration):

    dependencies = [
        ("collab", "0002_apitoken_expires_at"),
        ("auth", "0012_alter_user_first_name_max_length"),
    ]

    operations = [
        migrations.RunPython(normalise_usernames, migrations.RunPython.noop),
    ]
