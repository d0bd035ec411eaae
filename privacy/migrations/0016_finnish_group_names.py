"""The staff groups in Finnish (issue 12, item 7): "Owner" becomes "Omistaja" and "Staff"
"Henkilökunta", keeping their members and permissions (privacy.groups.rename_groups).
A new database gets the Finnish names from its first migrations already."""

from django.db import migrations

from privacy.groups import FORMER_NAMES, rename_groups


def to_finnish(apps, schema_editor):
    rename_groups(apps, FORMER_NAMES)


def to_english(apps, schema_editor):
    rename_groups(apps, {new: old for old, new in FORMER_NAMES.items()})


class Migration(migrations.Migration):
    dependencies = [("privacy", "0015_request_waiting"), ("auth", "0012_alter_user_first_name_max_length")]

    operations = [migrations.RunPython(to_finnish, to_english)]
