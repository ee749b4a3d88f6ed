"""A unique index on LOWER(username): two requests racing to register `Alice` and
`alice` (or a name created outside the service, e.g. in the admin) cannot both
succeed. Usernames are stored canonical (collab/accounts/usernames.py), so this is a
backstop; both PostgreSQL and SQLite support expression indexes."""

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ("collab", "0003_normalise_usernames"),
    ]

    operations = [
        migrations.RunSQL(
            sql="CREATE UNIQUE INDEX collab_username_lower_uniq ON auth_user (LOWER(username));",
            reverse_sql="DROP INDEX collab_username_lower_uniq;",
        ),
    ]
