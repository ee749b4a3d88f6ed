"""E-mail addresses are unique among users, ignoring case (accounts use them for password
resets): a unique index on LOWER(email) for the non-empty ones. Addresses used by more than
one account before this are kept by the oldest account and cleared on the others (printed,
so the operator can tell those users to set theirs again)."""

from django.db import migrations
from django.db.models.functions import Lower


def clear_duplicates(apps, schema_editor):
    User = apps.get_model("auth", "User")
    seen = set()
    cleared = []
    rows = User.objects.exclude(email="").annotate(folded=Lower("email")).order_by("pk")
    for pk, username, folded in rows.values_list("pk", "username", "folded"):
        if folded in seen:
            cleared.append((pk, username))
        else:
            seen.add(folded)
    if cleared:
        User.objects.filter(pk__in=[pk for pk, _ in cleared]).update(email="")
        print(
            "\n  e-mail addresses cleared (used by an older account too): "
            + ", ".join(username for _, username in cleared)
        )


class Migration(migrations.Migration):

    dependencies = [
        ("auth", "0012_alter_user_first_name_max_length"),
        ("collab", "0005_profile_usersession"),
    ]

    operations = [
        migrations.RunPython(clear_duplicates, migrations.RunPython.noop),
        migrations.RunSQL(
            sql="CREATE UNIQUE INDEX collab_email_lower_uniq ON auth_user (LOWER(email)) WHERE email <> '';",
            reverse_sql="DROP INDEX collab_email_lower_uniq;",
        ),
    ]
