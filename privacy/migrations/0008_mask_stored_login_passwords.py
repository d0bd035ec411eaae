"""Failed logins stored before the two-factor login's password field was masked held the
typed password in plain text (axes masks only the field it is told about): the posted
data of every stored attempt is removed. The attempt itself (user name, address, count,
time) stays, so lockouts in force go on."""

from django.db import migrations


def remove_posted_data(apps, schema_editor):
    AccessAttempt = apps.get_model("axes", "AccessAttempt")
    AccessAttempt.objects.exclude(post_data="").update(post_data="")


class Migration(migrations.Migration):
    dependencies = [
        ("privacy", "0007_request_no_contact_again"),
        ("axes", "0010_accessattemptexpiration"),
    ]

    operations = [migrations.RunPython(remove_posted_data, migrations.RunPython.noop)]
