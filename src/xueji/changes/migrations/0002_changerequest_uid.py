"""Every change request gets a stable uid (C8 packages name requests by it). Existing rows
get theirs one by one, before the column becomes unique."""

import uuid

from django.db import migrations, models


def fill_uids(apps, schema_editor):
    ChangeRequest = apps.get_model("changes", "ChangeRequest")
    for request in ChangeRequest.objects.only("pk").iterator():
        ChangeRequest.objects.filter(pk=request.pk).update(uid=uuid.uuid4())


class Migration(migrations.Migration):
    dependencies = [("changes", "0001_initial")]

    operations = [
        migrations.AddField(
            model_name="changerequest",
            name="uid",
            field=models.UUIDField(null=True, editable=False),
        ),
        migrations.RunPython(fill_uids, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="changerequest",
            name="uid",
            field=models.UUIDField(default=uuid.uuid4, unique=True, editable=False),
        ),
    ]
