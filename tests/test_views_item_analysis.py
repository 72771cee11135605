"""The item analysis pages of an assessment and of a template, their CSV tables, who may see them, and the
cache behind them (recomputed when grades change; a large class by the worker, at most once per debounce)."""
from __future__ import annotations

import csv
import io

import pytest
from django.test import Client
from django.urls import reverse

from exams import clock
from exams.analytics import caching
from exams.grading import grade_manually
from exams.models import Response, StatisticsSnapshot
from quizbank.models import Template
from tests.analytics_class import Item, simulate
from tests.exams_personas import build_classroom, classroom, fast_passwords, frozen_clock  # noqa: F401

pytestmark = pytest.mark.sandbox

ITEMS = [Item("va-easy", "mcq", -1.0), Item("va-short", "short", 0.0), Item("va-reversed", "mcq", 0.0, -2.5)]
TABLES = ("test", "items", "misconceptions", "completion", "variants")


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def analysed(classroom, frozen_clock):
    return simulate(classroom.course, ITEMS, 14, seed=3)


def test_staff_see_the_figures_the_numbers_and_links_from_flagged_questions_to_the_template(classroom, analysed):
    url = reverse("exams:assessment_analysis", args=[analysed.quiz.pk])
    reversed_template = Template.objects.get(slug="va-reversed")
    for user in (classroom.instructor, classroom.ta):
        page = client_for(user).get(url)
        assert page.status_code == 200
        html = page.content.decode()
        assert html.count("<svg") >= 3  # histogram, scatter, misconception bars
        assert "Facility against discrimination" in html and "Cronbach" in html
        assert "negative discrimination" in html
        assert reverse("admin:quizbank_template_preview", args=[reversed_template.pk]) in html
        assert reverse("admin:quizbank_template_history", args=[reversed_template.pk]) in html
        assert "of the class chose the option of" in html
        assert "Computed" in html
    manage = client_for(classroom.instructor).get(reverse("exams:manage_assessment", args=[analysed.quiz.pk]))
    assert url in manage.content.decode()


def test_students_outsiders_and_staff_of_other_courses_get_404(classroom, analysed):
    other = build_classroom("DL999")
    for user in (classroom.student, classroom.outsider, other.instructor):
        client = client_for(user)
        assert client.get(reverse("exams:assessment_analysis", args=[analysed.quiz.pk])).status_code == 404
        assert client.get(reverse("exams:assessment_analysis_csv", args=[analysed.quiz.pk, "items"])).status_code == 404
    template = Template.objects.get(slug="va-easy")
    for user in (classroom.student, classroom.outsider):
        assert client_for(user).get(reverse("exams:template_analysis", args=[template.pk])).status_code == 404


def test_every_table_downloads_as_a_csv_file(classroom, analysed):
    client = client_for(classroom.ta)
    for table in TABLES:
        response = client.get(reverse("exams:assessment_analysis_csv", args=[analysed.quiz.pk, table]))
        assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
        rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig"))))
        assert rows and rows[0], table
        if table == "items":
            assert len(rows) == 1 + len(ITEMS)
            assert any("negative discrimination" in row[-1] for row in rows[1:])
        if table == "misconceptions":
            assert {"off by one", "forgot to double", "squared instead"} <= {row[3] for row in rows[1:]}
    template = Template.objects.get(slug="va-short")
    for table in ("items", "misconceptions", "variants"):
        assert client.get(reverse("exams:template_analysis_csv", args=[template.pk, table])).status_code == 200
    assert client.get(reverse("exams:assessment_analysis_csv", args=[analysed.quiz.pk, "nothing"])).status_code == 404


def test_the_template_page_shows_the_viewers_own_courses_only(classroom, analysed):
    other = build_classroom("DL202")
    simulate(other.course, ITEMS[:1], 10, seed=4, title="Quiz B")
    template = Template.objects.get(slug="va-easy")
    url = reverse("exams:template_analysis", args=[template.pk])
    mine = client_for(classroom.instructor).get(url)
    theirs = client_for(other.instructor).get(url)
    assert mine.status_code == theirs.status_code == 200
    assert mine.context["data"]["n"] == 14 and theirs.context["data"]["n"] == 10
    assert "Quiz B" not in mine.content.decode() and "Quiz B" in theirs.content.decode()


def test_the_page_says_when_it_was_computed_and_recomputes_after_a_grade_changes(classroom, analysed):
    client = client_for(classroom.instructor)
    url = reverse("exams:assessment_analysis", args=[analysed.quiz.pk])
    first = client.get(url).context
    assert first["computed_at"] == clock.now() and not first["stale"]
    clock.advance(minutes=5)
    assert client.get(url).context["computed_at"] == first["computed_at"]  # nothing changed: the cache
    response = Response.objects.filter(attempt__assessment=analysed.quiz, score=0.0).first()
    grade_manually(response, classroom.instructor, 1.0, reason="accepted an equivalent answer")
    again = client.get(url).context
    assert again["computed_at"] == clock.now() and again["computed_at"] > first["computed_at"]
    assert again["data"]["test"]["mean"] > first["data"]["test"]["mean"]


def test_a_large_class_is_recomputed_by_the_worker_once_per_debounce_while_the_page_shows_the_last_figures(
        classroom, analysed, monkeypatch, django_capture_on_commit_callbacks):
    client = client_for(classroom.instructor)
    url = reverse("exams:assessment_analysis", args=[analysed.quiz.pk])
    client.get(url)  # the first view computes (there is nothing to show otherwise)
    monkeypatch.setattr(caching, "INLINE_LIMIT", 0)
    computed = StatisticsSnapshot.objects.get(scope=f"assessment:{analysed.quiz.pk}").computed_at
    clock.advance(minutes=1)
    response = Response.objects.filter(attempt__assessment=analysed.quiz, score=0.0).first()
    grade_manually(response, classroom.instructor, 1.0, reason="accepted an equivalent answer")
    with django_capture_on_commit_callbacks() as sent:
        stale = client.get(url)
        client.get(url)  # within the debounce: not sent again
    assert stale.context["stale"] and stale.context["updating"] and stale.context["computed_at"] == computed
    assert "being recomputed" in stale.content.decode()
    assert len(sent) == 1
    assert caching.refresh(f"assessment:{analysed.quiz.pk}") is True  # what the task runs
    fresh = client.get(url).context
    assert not fresh["stale"] and fresh["computed_at"] > computed
    assert caching.refresh(f"assessment:{analysed.quiz.pk}") is False  # nothing changed since


def test_the_beat_task_refreshes_recently_viewed_analyses_whose_grades_changed(classroom, analysed):
    client_for(classroom.instructor).get(reverse("exams:assessment_analysis", args=[analysed.quiz.pk]))
    assert caching.refresh_stale() == 0
    response = Response.objects.filter(attempt__assessment=analysed.quiz, score=0.0).first()
    clock.advance(minutes=1)
    grade_manually(response, classroom.instructor, 1.0, reason="accepted an equivalent answer")
    assert caching.refresh_stale() == 1
    clock.advance(days=15)
    grade_manually(response, classroom.instructor, 0.0, reason="back to the automatic grade")
    assert caching.refresh_stale() == 0  # nobody looked for two weeks
