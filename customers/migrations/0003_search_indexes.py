"""Trigram indexes for the admin's customer search on PostgreSQL.

The admin searches names, e-mail and phone with "contains" (UPPER(col) LIKE
UPPER('%term%')), which a B-tree index cannot serve. pg_trgm's GIN indexes can,
so a search on a register of 100,000 customers reads a few hundred rows instead
of all of them. SQLite has no such index; there the search scans the table
(about 30 ms at 100,000 customers). pg_trgm is a trusted extension (PostgreSQL 13+),
so the database's owner may create it without superuser rights.
"""

from django.db import migrations

COLUMNS = ["first_name", "last_name", "email", "phone"]


def create(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    for column in COLUMNS:
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS customer_{column}_trgm ON customers_customer "
            f"USING gin (UPPER({column}::text) gin_trgm_ops)"
        )


def drop(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for column in COLUMNS:
        schema_editor.execute(f"DROP INDEX IF EXISTS customer_{column}_trgm")


class Migration(migrations.Migration):
    dependencies = [("customers", "0002_customer_change")]
    operations = [migrations.RunPython(create, drop, elidable=False)]
