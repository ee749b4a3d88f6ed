
from typing import Any

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

from collab.engine.protocol import ProtocolError
from collab.engine.yupdate import check_update


def owners_from_the_log(apps: Any, schema_editor: Any) -> None:
    """Each client id of a logged row belongs to the author of the first row that holds it.

    Rows are kept after compaction, so this sees every authored write. Rows from
    before the client-id check may carry structs relayed from others; the first
    row of an id is almost always its author's own (a relay comes later).
    """
    DocumentUpdate = apps.get_model("documents", "DocumentUpdate")
    DocumentClient = apps.get_model("documents", "DocumentClient")
    seen: set[tuple[Any, int]] = set()
    rows = []
    query = DocumentUpdate.objects.filter(author__isnull=False).order_by("id")
    for document_id, author_id, data in query.values_list("document_id", "author_id", "data").iterator():
        try:
            ranges = check_update(bytes(data))
        except ProtocolError:
            continue
        for struct_range in ranges:
            if (document_id, struct_range.client) not in seen:
                seen.add((document_id, struct_range.client))
                rows.append(DocumentClient(document_id=document_id, client_id=struct_range.client, user_id=author_id))
        if len(rows) >= 1000:
            DocumentClient.objects.bulk_create(rows, ignore_conflicts=True)
            rows = []
    DocumentClient.objects.bulk_create(rows, ignore_conflicts=True)


class Migration(migrations.Migration):

    dependencies = [
        ('documents', '0001_initial'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name='DocumentClient',
            fields=[
                ('id', models.BigAutoField(primary_key=True, serialize=False)),
                ('client_id', models.BigIntegerField()),
                ('created_at', models.DateTimeField(auto_now_add=True)),
                ('document', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='clients', to='documents.document')),
                ('user', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to=settings.AUTH_USER_MODEL)),
            ],
            options={
                'constraints': [models.UniqueConstraint(fields=('document', 'client_id'), name='unique_document_client')],
            },
        ),
        migrations.RunPython(owners_from_the_log, migrations.RunPython.noop),
    ]
