# Hand-written: only the answer grouping models (exams.answer_groups); other pending model changes are not here.

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('exams', '0005_rubrics'),
        ('quizbank', '0001_initial'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name='AnswerGrouping',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('state', models.CharField(choices=[('queued', 'Queued'), ('running', 'Running'), ('done', 'Done'), ('failed', 'Failed')], default='queued', max_length=10)),
                ('requested_at', models.DateTimeField()),
                ('started_at', models.DateTimeField(blank=True, null=True)),
                ('finished_at', models.DateTimeField(blank=True, null=True)),
                ('done', models.PositiveIntegerField(default=0, help_text='Answers embedded so far.')),
                ('total', models.PositiveIntegerField(default=0, help_text='Distinct non-blank answers to embed.')),
                ('answers', models.PositiveIntegerField(default=0, help_text='Submitted answers grouped, blanks included.')),
                ('model_name', models.CharField(blank=True, max_length=200)),
                ('threshold', models.FloatField(default=0.0, help_text='Cosine distance at which clustering stops merging.')),
                ('timings', models.JSONField(blank=True, default=dict, help_text='Seconds: load, embed, cluster, total.')),
                ('error', models.TextField(blank=True)),
                ('assessment', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='answer_groupings', to='exams.assessment')),
                ('template', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to='quizbank.template')),
                ('requested_by', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL)),
            ],
            options={'ordering': ['-requested_at', '-pk'],
                     'indexes': [models.Index(fields=['assessment', 'template', 'state'], name='grouping_question_state')]},
        ),
        migrations.CreateModel(
            name='AnswerGroup',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('position', models.PositiveIntegerField(default=0, help_text='1 = the largest group.')),
                ('label', models.CharField(max_length=200)),
                ('size', models.PositiveIntegerField(default=0)),
                ('is_blank', models.BooleanField(default=False)),
                ('grouping', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='groups', to='exams.answergrouping')),
            ],
            options={'ordering': ['grouping', 'position', 'pk']},
        ),
        migrations.CreateModel(
            name='AnswerGroupMember',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('distance', models.FloatField(default=0.0)),
                ('is_exception', models.BooleanField(default=False)),
                ('group', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='members', to='exams.answergroup')),
                ('response', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to='exams.response')),
            ],
            options={'ordering': ['group', '-is_exception', '-distance', 'pk'],
                     'constraints': [models.UniqueConstraint(fields=('group', 'response'), name='unique_group_member')]},
        ),
    ]
