"""Every intake entry gets a stable uid (an offline unit's change package names new pupils
by it, issue 6). Existing rows get theirs one by one, before the column becomes unique."""

import uuid

from django.db import migrations, models


def fill_uids(apps, schema_editor):
    IntakeEntry = apps.get_model("intake", "IntakeEntry")
    for entry in IntakeEntry.objects.only("pk").iterator():
        IntakeEntry.objects.filter(pk=entry.pk).update(uid=uuid.uuid4())


class Migration(migrations.Migration):
    dependencies = [("intake", "0002_roster_check")]

    operations = [
        migrations.AddField(
            model_name="intakeentry",
            name="uid",
            field=models.UUIDField(null=True, editable=False),
        ),
        migrations.RunPython(fill_uids, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="intakeentry",
            name="uid",
            field=models.UUIDField(default=uuid.uuid4, unique=True, editable=False),
        ),
    ]
