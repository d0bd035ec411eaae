from django.db import migrations

from privacy.groups import sync_groups


def seed_controller(apps, schema_editor):
    """The controller named in the business's privacy notice of 4 January 2018 (S1);
    the owner keeps it up to date in the admin."""
    ControllerDetails = apps.get_model("privacy", "ControllerDetails")
    if not ControllerDetails.objects.exists():
        ControllerDetails.objects.create(
            name="Kehobalanssi / Sanna-Kaisa Lehto",
            street_address="Ellintie 4",
            phone="040 520 8141",
            email="sanna-kaisa@kehobalanssi.fi",
            contact_person="Sanna-Kaisa Lehto",
            contact_phone="040 520 8141",
            contact_email="sanna-kaisa@kehobalanssi.fi",
        )


def noop(apps, schema_editor):
    pass


class Migration(migrations.Migration):
    dependencies = [("privacy", "0005_data_requests")]

    operations = [
        migrations.RunPython(seed_controller, noop),
        # Staff get the data-request permissions that now exist.
        migrations.RunPython(sync_groups, noop),
    ]
