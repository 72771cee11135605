# Hand-written: only the rubric grading models (exams.rubrics) and regrade requests (exams.regrade_requests); other pending model changes are not here.

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('exams', '0004_publishing'),
        ('quizbank', '0001_initial'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name='RubricItem',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('position', models.PositiveSmallIntegerField(default=0)),
                ('points', models.FloatField()),
                ('text', models.CharField(max_length=500)),
                ('assessment', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='rubric_items', to='exams.assessment')),
                ('template', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to='quizbank.template')),
            ],
            options={'ordering': ['assessment', 'template', 'position', 'pk']},
        ),
        migrations.CreateModel(
            name='RubricGrade',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('adjustment', models.FloatField(default=0.0)),
                ('comment', models.TextField(blank=True)),
                ('updated_at', models.DateTimeField(blank=True, null=True)),
                ('response', models.OneToOneField(on_delete=django.db.models.deletion.CASCADE, related_name='rubric_grade', to='exams.response')),
                ('items', models.ManyToManyField(blank=True, related_name='grades', to='exams.rubricitem')),
            ],
        ),
        migrations.CreateModel(
            name='GradingAssignment',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('grader', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to=settings.AUTH_USER_MODEL)),
                ('response', models.OneToOneField(on_delete=django.db.models.deletion.CASCADE, related_name='grading_assignment', to='exams.response')),
            ],
        ),
        migrations.CreateModel(
            name='RegradeRequest',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('reason', models.TextField()),
                ('state', models.CharField(choices=[('open', 'Open'), ('answered', 'Answered')], default='open', max_length=10)),
                ('created_at', models.DateTimeField()),
                ('reply', models.TextField(blank=True)),
                ('answered_at', models.DateTimeField(blank=True, null=True)),
                ('score_before', models.FloatField(blank=True, null=True)),
                ('score_after', models.FloatField(blank=True, null=True)),
                ('answered_by', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL)),
                ('response', models.OneToOneField(on_delete=django.db.models.deletion.CASCADE, related_name='regrade_request', to='exams.response')),
                ('student', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to=settings.AUTH_USER_MODEL)),
            ],
        ),
    ]
