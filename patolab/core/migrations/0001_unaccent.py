"""The PostgreSQL `unaccent` extension for accent-insensitive search
(patolab/core/search.py). SQLite gets a Python function instead: nothing to do."""

from django.db import migrations


def create_extension(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("CREATE EXTENSION IF NOT EXISTS unaccent")


class Migration(migrations.Migration):
    initial = True
    dependencies: list = []
    operations = [migrations.RunPython(create_extension, migrations.RunPython.noop)]
