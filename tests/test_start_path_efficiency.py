"""The start of a class stays cheap: once an assessment's variants are pre-generated, starting an attempt and
loading the quiz page run no template code, and the quiz page's query count does not grow with the number
of questions (a regression bound on work per request, not a timing)."""
from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.db import connection

from exams import clock
from exams.assembly import pregenerate_assessment
from exams.models import Attempt
from tests.exams_personas import build_bank, classroom, fast_passwords, make_assessment, runner_calls  # noqa: F401


def _quiz(classroom, title: str, count: int):
    now = clock.now()
    return make_assessment(classroom.course, title, blueprint=[{"qtype": "short", "count": count, "lectures": [1, 1]}],
                           opens_at=now - timedelta(hours=1), closes_at=now + timedelta(days=1))


def _start_and_load(student, quiz) -> tuple[int, int, int]:
    """Queries of the start page, the start POST and the quiz page."""
    client = Client()
    client.force_login(student)
    counts = []
    with CaptureQueriesContext(connection) as queries:
        assert client.get(f"/assessments/{quiz.pk}/").status_code == 200
    counts.append(len(queries))
    with CaptureQueriesContext(connection) as queries:
        started = client.post(f"/assessments/{quiz.pk}/start")
    assert started.status_code == 302
    counts.append(len(queries))
    attempt = Attempt.objects.get(assessment=quiz, student=student)
    with CaptureQueriesContext(connection) as queries:
        page = client.get(f"/attempts/{attempt.pk}/")
    assert page.status_code == 200 and page.content.count(b' data-slot="') == attempt.slots.count()
    counts.append(len(queries))
    return counts[0], counts[1], counts[2]


@pytest.fixture
def two_quizzes(classroom):
    build_bank(mcq=0, short=8, code=0)
    small, large = _quiz(classroom, "Two questions", 2), _quiz(classroom, "Eight questions", 8)
    pregenerate_assessment(small.pk)
    pregenerate_assessment(large.pk)
    return small, large


def test_the_quiz_page_makes_as_many_queries_for_eight_questions_as_for_two(classroom, two_quizzes):
    small, large = two_quizzes
    _, _, quiz_page_small = _start_and_load(classroom.student, small)
    _, _, quiz_page_large = _start_and_load(classroom.student, large)
    assert quiz_page_large == quiz_page_small


def test_starting_makes_as_many_queries_for_eight_questions_as_for_two(classroom, two_quizzes):
    small, large = two_quizzes
    _start_and_load(classroom.other_student, small)  # the first start of all also fills the bank's cache
    start_page_small, start_small, _ = _start_and_load(classroom.student, small)
    start_page_large, start_large, _ = _start_and_load(classroom.student, large)
    assert (start_page_large, start_large) == (start_page_small, start_small)


def test_no_template_code_runs_when_a_pregenerated_quiz_is_started_and_shown(classroom, two_quizzes, runner_calls):
    _, large = two_quizzes
    _start_and_load(classroom.student, large)
    _start_and_load(classroom.other_student, large)
    assert runner_calls == []


def test_a_question_that_was_not_pregenerated_is_generated_once_and_the_quiz_still_starts(classroom, runner_calls):
    build_bank(mcq=0, short=3, code=0)
    quiz = _quiz(classroom, "Not pre-generated", 3)
    _start_and_load(classroom.student, quiz)
    assert runner_calls == ["generate"] * 3
    attempt = Attempt.objects.get(assessment=quiz, student=classroom.student)
    client = Client()
    client.force_login(classroom.student)
    assert client.get(f"/attempts/{attempt.pk}/").status_code == 200
    assert runner_calls == ["generate"] * 3  # cached: a reload runs nothing


def test_the_cached_bank_follows_a_template_retired_after_the_first_start(classroom):
    templates = build_bank(mcq=0, short=3, code=0)
    quiz = _quiz(classroom, "Two of three", 2)
    _start_and_load(classroom.student, quiz)  # fills the cache with all three
    retired = templates[0]
    retired.is_active = False
    retired.save()
    _start_and_load(classroom.other_student, quiz)
    drawn = set(Attempt.objects.get(assessment=quiz, student=classroom.other_student).slots
                .values_list("template__slug", flat=True))
    assert drawn == {templates[1].slug, templates[2].slug}
