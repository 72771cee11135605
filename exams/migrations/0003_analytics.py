# Hand-written: only the item-analysis cache (exams.analytics); other pending model changes are not here.

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('exams', '0002_grading_errors_and_audit_log'),
    ]

    operations = [
        migrations.CreateModel(
            name='StatisticsSnapshot',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('scope', models.CharField(help_text='"assessment:<id>" or "template:<id>:<courses>".', max_length=200, unique=True)),
                ('signature', models.CharField(blank=True, max_length=200)),
                ('data', models.JSONField(blank=True, default=dict)),
                ('computed_at', models.DateTimeField(blank=True, null=True)),
                ('compute_ms', models.FloatField(default=0.0)),
                ('queued_at', models.DateTimeField(blank=True, help_text='A recomputation was sent to the worker.', null=True)),
                ('viewed_at', models.DateTimeField(blank=True, null=True)),
                ('assessment', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.CASCADE, related_name='+', to='exams.assessment')),
            ],
        ),
    ]
