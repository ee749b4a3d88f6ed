"""A GIN index for chat message search, on PostgreSQL only.

The indexed expression must stay exactly `to_tsvector('english'::regconfig, body)`:
chat.search.BodyVector emits the same expression, which is what lets the planner
use this index for `... @@ websearch_to_tsquery(...)`. On SQLite (the embedded
default) search falls back to substring matching and this migration does nothing.
"""

from django.db import migrations

INDEX_NAME = "chat_message_body_fts"


def create_index(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(
        f"CREATE INDEX IF NOT EXISTS {INDEX_NAME} ON chat_chatmessage "
        "USING gin (to_tsvector('english'::regconfig, body))"
    )


def drop_index(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(f"DROP INDEX IF EXISTS {INDEX_NAME}")


class Migration(migrations.Migration):

    dependencies = [
        ("chat", "0002_reactions_direct_rooms_change_kind"),
    ]

    operations = [
        migrations.RunPython(create_index, drop_index, elidable=False),
    ]
