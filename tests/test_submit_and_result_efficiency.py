"""The end of a class stays cheap per student: submitting an attempt reads its stored variants in one query
and stores its grades in one round of statements (as many queries for eight questions as for two), and the results page (released, with its regrade boxes) makes as many queries for eight questions as for two
(a regression bound on work per request, not a timing)."""
from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.db import connection

from exams import clock
from exams.assembly import pregenerate_assessment
from exams.models import Assessment, Attempt
from tests.exams_personas import build_bank, classroom, fast_passwords, make_assessment, runner_calls  # noqa: F401


def _quiz(classroom, title: str, count: int) -> Assessment:
    now = clock.now()
    quiz = make_assessment(classroom.course, title, blueprint=[{"qtype": "short", "count": count, "lectures": [1, 1]}],
                           opens_at=now - timedelta(hours=1), closes_at=now + timedelta(days=1))
    pregenerate_assessment(quiz.pk)
    return quiz


def _start_and_submit(student, quiz) -> tuple[Client, Attempt, list[str]]:
    """The student's client, attempt and the SQL of its submit POST."""
    client = Client()
    client.force_login(student)
    assert client.post(f"/assessments/{quiz.pk}/start").status_code == 302
    attempt = Attempt.objects.get(assessment=quiz, student=student)
    with CaptureQueriesContext(connection) as submit:
        assert client.post(f"/attempts/{attempt.pk}/submit", {"reason": "student"}).status_code == 302
    return client, attempt, [query["sql"] for query in submit.captured_queries]


def _results_page_queries(student, quiz) -> int:
    client, attempt, _ = _start_and_submit(student, quiz)
    Assessment.objects.filter(pk=quiz.pk).update(results_released_at=clock.now() - timedelta(minutes=1))
    with CaptureQueriesContext(connection) as result:
        page = client.get(f"/attempts/{attempt.pk}/")
    assert page.status_code == 200 and page.content.count(b'<details class="regrade-request">') == attempt.slots.count()
    return len(result)


@pytest.fixture
def two_quizzes(classroom):
    build_bank(mcq=0, short=8, code=0)
    return _quiz(classroom, "Two questions", 2), _quiz(classroom, "Eight questions", 8)


def test_the_released_results_page_makes_as_many_queries_for_eight_questions_as_for_two(classroom, two_quizzes):
    small, large = two_quizzes
    assert _results_page_queries(classroom.student, small) == _results_page_queries(classroom.other_student, large)


def test_submitting_reads_every_stored_variant_in_one_query_and_runs_no_template_code(classroom, two_quizzes,
                                                                                      runner_calls):
    small, large = two_quizzes
    for student, quiz in ((classroom.student, small), (classroom.other_student, large)):
        _, _, submit_sql = _start_and_submit(student, quiz)
        variant_reads = [sql for sql in submit_sql if sql.startswith("SELECT") and 'FROM "quizbank_variant"' in sql]
        assert len(variant_reads) == 1, variant_reads
    assert runner_calls == []


def test_submitting_eight_questions_takes_as_many_queries_as_two(classroom, two_quizzes):
    small, large = two_quizzes
    (_, _, small_sql), (_, large_attempt, large_sql) = (_start_and_submit(classroom.student, small),
                                                        _start_and_submit(classroom.other_student, large))
    assert len(large_sql) == len(small_sql), large_sql
    assert large_attempt.responses.filter(grading_state="graded").count() == 8
