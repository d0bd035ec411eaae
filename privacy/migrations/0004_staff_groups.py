from django.db import migrations

from privacy.groups import sync_groups


def noop(apps, schema_editor):
    pass


class Migration(migrations.Migration):
    dependencies = [
        ("privacy", "0003_confidentiality_commitment"),
        ("customers", "0002_customer_change"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(sync_groups, noop)]
