"""The two staff groups (privacy notice S13), kept in one place so migrations can
re-apply them when new models arrive."""

from types import ModuleType

# In Finnish, as the owner reads them in the admin (issue 12, item 7). Look groups up by
# these constants, never by a name typed elsewhere: migration 0016 renamed the groups.
OWNER_GROUP = "Omistaja"
STAFF_GROUP = "Henkilökunta"
STAFF_GROUPS = (OWNER_GROUP, STAFF_GROUP)
# The names the groups had before (privacy migration 0016 renames them).
FORMER_NAMES = {"Owner": OWNER_GROUP, "Staff": STAFF_GROUP}

# Staff do customer and request work; no staff management and no audit-log export.
STAFF_APPS = {"customers"}
STAFF_EXTRA = {("privacy", "view_auditevent"), ("privacy", "view_legalhold")}
STAFF_PRIVACY_MODELS = {"datarequest", "datarequestevent", "controllerdetails"}


def sync_groups(apps, schema_editor=None) -> None:
    from django.apps import apps as global_apps
    from django.contrib.auth.management import create_permissions

    # Permissions are normally made after migrate; make them now so the groups get them.
    # create_permissions() skips an app whose models module is unset: any module will do.
    # It is put back afterwards: post_migrate handlers and dumpdata skip such apps too.
    for app_config in global_apps.get_app_configs():
        models_module = app_config.models_module
        app_config.models_module = models_module or ModuleType(f"{app_config.name}.models")
        try:
            create_permissions(app_config, apps=apps, verbosity=0)
        finally:
            app_config.models_module = models_module

    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    owner, _ = Group.objects.get_or_create(name=OWNER_GROUP)
    owner.permissions.set(Permission.objects.all())
    staff, _ = Group.objects.get_or_create(name=STAFF_GROUP)
    staff_permissions = [
        p
        for p in Permission.objects.select_related("content_type")
        if p.content_type.app_label in STAFF_APPS
        or (p.content_type.app_label, p.codename) in STAFF_EXTRA
        or (p.content_type.app_label == "privacy" and p.content_type.model in STAFF_PRIVACY_MODELS)
    ]
    staff.permissions.set(staff_permissions)


def rename_groups(apps, names: dict[str, str]) -> None:
    """Give each group its new name. A group made meanwhile under the new name (by a
    migration that synced the groups first) takes the old group's members, and the old
    group goes: nobody loses their access, and no two groups mean the same."""
    Group = apps.get_model("auth", "Group")
    for old_name, new_name in names.items():
        old = Group.objects.filter(name=old_name).first()
        if old is None:
            continue
        new = Group.objects.filter(name=new_name).first()
        if new is None:
            old.name = new_name
            old.save(update_fields=["name"])
        else:
            new.user_set.add(*old.user_set.all())
            old.delete()
