"""The instructor releases or hides results and answers, now or at a time; students see what is released on
the start page, the result page and their course list. TAs and students cannot change releases (404)."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone as dt_timezone

import pytest
from django.urls import reverse

from exams import attempts as attempt_service
from exams import audit, clock
from exams.models import AuditEvent
from tests.web_fixtures import *  # noqa: F403

pytestmark = pytest.mark.django_db
NOW = datetime(2026, 2, 3, 18, 0, tzinfo=dt_timezone.utc)


@pytest.fixture
def at_six_utc():
    clock.freeze(NOW)
    yield NOW
    clock.unfreeze()


def release(client, quiz, **data):
    return client.post(reverse("exams:release_controls", args=[quiz.pk]),
                       {"results": "keep", "answers": "keep", "results_at": "", "answers_at": "", **data})


def submitted(quiz, student):
    attempt = attempt_service.start_attempt(quiz, student)
    return attempt_service.submit_attempt(attempt, user=student)


def test_results_released_now_show_on_the_students_pages(at_six_utc, course, instructor, student, bank):
    quiz = make_quiz(course, slugs=["web-double"])
    attempt = submitted(quiz, student)
    response = release(logged_in(instructor), quiz, results="now")
    assert response.status_code == 302
    quiz.refresh_from_db()
    assert quiz.results_released_at == NOW and quiz.answers_released_at is None
    event = AuditEvent.objects.get(action=audit.RELEASE)
    assert event.actor == instructor and event.after["results_released_at"] == NOW.isoformat()
    sam = logged_in(student)
    start_page = sam.get(reverse("exams:assessment", args=[quiz.pk])).content.decode()
    assert "Results released on 3 Feb 2026, 22:00 +04." in start_page and "Answers are not released yet." in start_page
    result_page = sam.get(reverse("exams:attempt", args=[attempt.pk])).content.decode()
    assert "Results released on 3 Feb 2026, 22:00 +04." in result_page and "Your score" in result_page
    assert "Results released on" in sam.get(reverse("exams:dashboard")).content.decode()


def test_answers_released_at_a_time_are_announced_and_bring_the_results_with_them(at_six_utc, course, instructor,
                                                                                    student, bank):
    quiz = make_quiz(course, slugs=["web-double"])
    submitted(quiz, student)
    response = release(logged_in(instructor), quiz, answers="at", answers_at="2026-02-05T23:00")
    assert response.status_code == 302
    quiz.refresh_from_db()
    expected = datetime(2026, 2, 5, 19, 0, tzinfo=dt_timezone.utc)  # 23:00 Baku time
    assert quiz.answers_released_at == expected and quiz.results_released_at == expected
    page = logged_in(student).get(reverse("exams:assessment", args=[quiz.pk])).content.decode()
    assert "Results will be released on 5 Feb 2026, 23:00 +04." in page
    assert "Answers will be released on 5 Feb 2026, 23:00 +04." in page


def test_hiding_takes_results_and_answers_back(at_six_utc, course, instructor, student, bank):
    quiz = make_quiz(course, slugs=["web-double"], results_released_at=NOW - timedelta(hours=1),
                     answers_released_at=NOW - timedelta(hours=1))
    attempt = submitted(quiz, student)
    release(logged_in(instructor), quiz, results="hide")
    quiz.refresh_from_db()
    assert quiz.results_released_at is None and quiz.answers_released_at is None
    page = logged_in(student).get(reverse("exams:attempt", args=[attempt.pk])).content.decode()
    assert "Results are not released yet." in page and "Your score" not in page


def test_the_release_page_shows_the_state_and_the_time_zone(at_six_utc, course, instructor, bank):
    quiz = make_quiz(course, slugs=["web-double"], results_released_at=NOW + timedelta(days=1))
    page = logged_in(instructor).get(reverse("exams:release_controls", args=[quiz.pk])).content.decode()
    assert "Scheduled" in page and "Asia/Baku (UTC+04:00)" in page and "Answers imply results" in page


def test_release_at_without_a_time_is_refused(at_six_utc, course, instructor, bank):
    quiz = make_quiz(course, slugs=["web-double"])
    response = release(logged_in(instructor), quiz, results="at")
    assert response.status_code == 400 and "Choose a date and time." in response.content.decode()
    quiz.refresh_from_db()
    assert quiz.results_released_at is None and not AuditEvent.objects.exists()


@pytest.mark.parametrize("who", ["ta", "student", "outsider"])
def test_only_the_instructor_changes_releases(who, request, at_six_utc, course, instructor, bank):
    quiz = make_quiz(course, slugs=["web-double"])
    client = logged_in(request.getfixturevalue(who))
    assert client.get(reverse("exams:release_controls", args=[quiz.pk])).status_code == 404
    assert release(client, quiz, results="now", answers="now").status_code == 404
    quiz.refresh_from_db()
    assert quiz.results_released_at is None and not AuditEvent.objects.exists()
