from django.db import migrations, models


class Migration(migrations.Migration):
    """Export becomes a StoredDocument of the one document pipeline."""

    dependencies = [
        ("exports", "0001_export"),
    ]

    operations = [
        migrations.AddField(
            model_name="export",
            name="fingerprint",
            field=models.CharField(default="", max_length=64, verbose_name="huella"),
            preserve_default=False,
        ),
        migrations.AlterField(
            model_name="export",
            name="sha256",
            field=models.CharField(max_length=64, verbose_name="SHA-256"),
        ),
        migrations.AlterField(
            model_name="export",
            name="size",
            field=models.PositiveIntegerField(default=0, verbose_name="tamaño"),
        ),
    ]
