from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("core", "0001_unaccent"),
        ("protocols", "0001_initial"),
    ]

    operations = [
        migrations.AlterField(
            model_name="protocol",
            name="temporary_code",
            field=models.CharField(
                blank=True,
                max_length=30,
                null=True,
                unique=True,
                verbose_name="código temporal",
            ),
        ),
        migrations.AlterField(
            model_name="protocol",
            name="sampling_date",
            field=models.DateField(
                blank=True, null=True, verbose_name="fecha de toma de muestra"
            ),
        ),
    ]
