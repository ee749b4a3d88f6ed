"""Search reads a stored tsvector instead of parsing bodies at query time (PostgreSQL only).

With only an expression index, a common word searched across many rooms made the
planner walk the room index and run to_tsvector() on every body of those rooms
(hundreds of ms for tens of thousands of messages). A stored generated column is
parsed once, when the message is written; its GIN index replaces the expression
index of 0003. Adding the column rewrites the table once (a lock for the length of
the rewrite: run it in a quiet moment on large deployments). Django's model does not
list the column: PostgreSQL fills it, and chat.search.BodyVector reads it.
"""

from django.db import migrations

COLUMN = "body_tsv"
INDEX_NAME = "chat_message_body_tsv"
OLD_INDEX_NAME = "chat_message_body_fts"


def add_column(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(
        f"ALTER TABLE chat_chatmessage ADD COLUMN IF NOT EXISTS {COLUMN} tsvector "
        "GENERATED ALWAYS AS (to_tsvector('english'::regconfig, body)) STORED"
    )
    schema_editor.execute(f"CREATE INDEX IF NOT EXISTS {INDEX_NAME} ON chat_chatmessage USING gin ({COLUMN})")
    schema_editor.execute(f"DROP INDEX IF EXISTS {OLD_INDEX_NAME}")


def drop_column(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(
        f"CREATE INDEX IF NOT EXISTS {OLD_INDEX_NAME} ON chat_chatmessage "
        "USING gin (to_tsvector('english'::regconfig, body))"
    )
    schema_editor.execute(f"ALTER TABLE chat_chatmessage DROP COLUMN IF EXISTS {COLUMN}")


class Migration(migrations.Migration):

    dependencies = [
        ("chat", "0003_message_search_index"),
    ]

    operations = [
        migrations.RunPython(add_column, drop_column, elidable=False),
    ]
