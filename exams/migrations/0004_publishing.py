# Hand-written: only publishing's pre-flight fields (exams.publishing); other pending model changes are not here.

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('exams', '0003_analytics'),
    ]

    operations = [
        migrations.AddField(
            model_name='assessment',
            name='excluded_templates',
            field=models.JSONField(blank=True, default=dict),
        ),
        migrations.AddField(
            model_name='assessment',
            name='preflight_problems',
            field=models.JSONField(blank=True, default=list),
        ),
    ]
