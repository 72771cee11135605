"""The production lane: PostgreSQL, Redis and a real Celery worker process grading code through the sandbox.

Runs only when scripts/test.sh found PostgreSQL and Redis (DLQUIZ_PRODUCTION_LANE=1); skipped otherwise.
"""
from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

from exams import attempts
from exams.models import Assessment, Attempt, Course, Membership, Response
from exams.roster import enroll
from quizbank import services
from tests.conftest import make_user
from tests.production_support import database_url, wait_for
from tests.specs import COMPLETION, SOFTMAX_SHORT

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]
ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def celery_worker_process(django_db_setup, django_db_blocker):
    """A real `celery worker` subprocess on the test database and the lane's Redis broker."""
    assert connection.vendor == "postgresql", "the production lane runs on PostgreSQL"
    env = {**os.environ, "DATABASE_URL": database_url(), "CELERY_BROKER_URL": settings.CELERY_BROKER_URL}
    celery = str(Path(sys.executable).with_name("celery"))
    subprocess.run([celery, "-A", "config", "purge", "-f"], cwd=ROOT, env=env, check=True, capture_output=True)
    worker = subprocess.Popen(
        [celery, "-A", "config", "worker", "--pool", "threads", "--concurrency", "4", "--loglevel", "INFO", "--without-mingle",
         "--without-gossip", "-n", f"lane-{os.getpid()}@%h"],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    try:
        yield worker
    finally:
        worker.terminate()
        try:
            output, _ = worker.communicate(timeout=20)
        except subprocess.TimeoutExpired:
            worker.kill()
            output, _ = worker.communicate()
        if os.environ.get("DLQUIZ_SHOW_WORKER_LOG"):
            print(output)


def started_attempt(code: str, *specs):
    """A student's running attempt at a published quiz made of exactly these templates."""
    for spec in specs:
        services.save_spec(spec)
    course = Course.objects.create(code=code, title="Production lane")
    student = make_user(f"student-{code.lower()}")
    enroll(course, student, Membership.STUDENT, code)
    assessment = Assessment.objects.create(
        course=course, title=f"{code} quiz", kind=Assessment.QUIZ, time_limit_minutes=30, state=Assessment.PUBLISHED,
        blueprint=[{"templates": [spec.slug for spec in specs]}],
    )
    return student, attempts.start_attempt(assessment, student)


def test_a_submitted_code_answer_is_graded_by_a_real_worker_through_the_sandbox(celery_worker_process):
    student, attempt = started_attempt("LANE", COMPLETION, SOFTMAX_SHORT)
    questions = {q.public["kind"]: q for q in attempts.attempt_questions(attempt)}
    attempts.autosave(attempt, questions["completion"].slot_id, "return torch.clamp(x, min=0)", user=student)
    attempts.autosave(attempt, questions["short"].slot_id, "abc", user=student)
    attempts.submit_attempt(attempt, user=student)

    code_response = Response.objects.get(slot_id=questions["completion"].slot_id)
    graded = wait_for(lambda: Response.objects.filter(pk=code_response.pk, grading_state=Response.GRADED).first())
    assert graded.score == 1.0
    short_response = Response.objects.get(slot_id=questions["short"].slot_id)
    assert short_response.valid is False and short_response.score == 0.0
    attempt.refresh_from_db()
    assert attempt.score == pytest.approx(0.5)
    assert celery_worker_process.poll() is None, "the worker is still alive after grading"


def test_a_second_delivery_of_the_same_grading_task_does_not_grade_twice(celery_worker_process):
    from exams.tasks import grade_code_response

    student, attempt = started_attempt("LANE2", COMPLETION)
    (question,) = attempts.attempt_questions(attempt)
    attempts.autosave(attempt, question.slot_id, "return x.abs()", user=student)
    attempts.submit_attempt(attempt, user=student)
    response = Response.objects.get(slot_id=question.slot_id)
    grade_code_response.delay(response.pk)  # a duplicate, as a broker redelivery would send
    graded = wait_for(lambda: Response.objects.filter(pk=response.pk, grading_state=Response.GRADED).first())
    first_graded_at = graded.graded_at
    time.sleep(3)  # give the duplicate time to run; its claim must find nothing to do
    graded.refresh_from_db()
    assert graded.graded_at == first_graded_at
    assert 0.0 < graded.score < 1.0


def test_a_quiz_page_that_was_not_pregenerated_waits_for_a_real_worker_to_make_its_variants(
        celery_worker_process, settings):
    from django.core.cache import cache

    settings.QUIZ_PAGE_GENERATES_VARIANTS = False  # the production profile: no template code in the web process
    cache.clear()
    _, attempt = started_attempt("WAIT", COMPLETION, SOFTMAX_SHORT)
    shown = attempts.attempt_questions(attempt)
    assert all(question.public["kind"] == "preparing" for question in shown)  # nothing was generated here
    wait_for(lambda: attempts.questions_ready(attempt))
    assert {question.public["kind"] for question in attempts.attempt_questions(attempt)} == {"completion", "short"}


def test_a_submit_of_questions_never_prepared_is_graded_by_a_real_worker_not_the_web_process(
        celery_worker_process, settings):
    from django.core.cache import cache

    settings.QUIZ_PAGE_GENERATES_VARIANTS = False  # the production profile: no template code in the web process
    cache.clear()
    student, attempt = started_attempt("UNPREP", COMPLETION, SOFTMAX_SHORT)
    slots = {slot.template.slug: slot.pk for slot in attempt.slots.select_related("template")}
    attempts.autosave(attempt, slots[COMPLETION.slug], "return torch.clamp(x, min=0)", user=student)
    attempts.autosave(attempt, slots[SOFTMAX_SHORT.slug], "abc", user=student)
    submitted = attempts.submit_attempt(attempt, user=student)
    assert submitted.pending_count == 2  # nothing could be checked here: no variant, and none made here
    graded = wait_for(lambda: Response.objects.filter(slot_id=slots[COMPLETION.slug],
                                                      grading_state=Response.GRADED).first())
    assert graded.score == 1.0
    short = Response.objects.get(slot_id=slots[SOFTMAX_SHORT.slug])
    assert (short.grading_state, short.valid, short.score) == (Response.GRADED, False, 0.0)
    assert wait_for(lambda: Attempt.objects.filter(pk=attempt.pk, pending_count=0).first()).score == 0.5
