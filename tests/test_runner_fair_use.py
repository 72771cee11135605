"""Fair use of the runner: one student's code jobs are capped, their practice starts rate-limited, and quiz
grading is routed apart from practice, so nobody's flood delays the rest of the class.
Code runs for real in the sandbox; a claim "held by another worker" is the database state such a worker leaves."""
from __future__ import annotations

import threading

import pytest

from config.celery import app
from exams import clock
from exams.attempts import StartRefused, autosave, start_attempt, submit_attempt
from exams.fair_use import BUSY, CLAIMED, claim_code_grading, dispatch_waiting, route_task
from exams.grading import STALE_CLAIM, grade_code_response
from exams.models import Assessment, Attempt, Response
from exams import dispatch, tasks
from tests.exams_personas import (  # noqa: F401 - fixtures
    build_bank, build_classroom, classroom, fast_passwords, frozen_clock, make_assessment, runner_calls,
)

pytestmark = pytest.mark.sandbox


@pytest.fixture
def code_bank(classroom):
    return build_bank(mcq=0, short=0, code=2)  # t-code-1 is a completion template


def practice(course, title: str = "Practice") -> Assessment:
    return make_assessment(course, title, kind=Assessment.PRACTICE, minutes=None, attempts_allowed=50,
                           blueprint=[{"templates": ["t-code-1"]}])


def submitted_code_response(assessment: Assessment, student, answer: str = "return 2 * x\n") -> Response:
    attempt = start_attempt(assessment, student)
    response = Response.objects.get(attempt=attempt)
    autosave(attempt, response.slot_id, answer, user=student)
    submit_attempt(attempt, user=student)
    response.refresh_from_db()
    assert response.grading_state == Response.QUEUED
    return response


def held_by_another_worker(response: Response) -> None:
    Response.objects.filter(pk=response.pk).update(grading_state=Response.GRADING, grading_claimed_at=clock.now())


def test_a_student_with_the_maximum_of_jobs_running_cannot_claim_another_which_stays_queued(
        classroom, code_bank, frozen_clock, runner_calls, settings):
    settings.RUNNER_MAX_JOBS_PER_STUDENT = 2
    drill = practice(classroom.course)
    running = [submitted_code_response(drill, classroom.student, "while True:\n    pass\n") for _ in range(2)]
    waiting = submitted_code_response(drill, classroom.student)
    for response in running:
        held_by_another_worker(response)
    assert grade_code_response(waiting.pk) is False
    waiting.refresh_from_db()
    assert waiting.grading_state == Response.QUEUED and "grade" not in runner_calls
    classmate = submitted_code_response(drill, classroom.other_student)
    assert grade_code_response(classmate.pk) is True
    classmate.refresh_from_db()
    assert (classmate.grading_state, classmate.score) == (Response.GRADED, 1.0)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_workers_claiming_one_students_answers_at_the_same_moment_claim_no_more_than_the_maximum(
        fast_passwords, frozen_clock, settings):
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("SQLite serialises writers (and its test database is not shared between threads)")
    settings.RUNNER_MAX_JOBS_PER_STUDENT = 2
    room = build_classroom("RACE2")
    build_bank(mcq=0, short=0, code=2)
    drill = practice(room.course)
    waiting = [submitted_code_response(drill, room.student).pk for _ in range(6)]
    barrier = threading.Barrier(len(waiting))
    outcomes, errors = [], []

    def claim(response_id: int) -> None:
        try:
            barrier.wait()
            outcomes.append(claim_code_grading(response_id, clock.now(), STALE_CLAIM))
        except Exception as error:  # pragma: no cover - reported below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=claim, args=(response_id,)) for response_id in waiting]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert sorted(outcomes) == sorted([CLAIMED] * 2 + [BUSY] * 4)
    assert Response.objects.filter(pk__in=waiting, grading_state=Response.GRADING).count() == 2


def test_a_claim_stuck_with_a_dead_worker_does_not_count_against_the_student(
        classroom, code_bank, frozen_clock, settings):
    settings.RUNNER_MAX_JOBS_PER_STUDENT = 1
    drill = practice(classroom.course)
    stuck = submitted_code_response(drill, classroom.student)
    waiting = submitted_code_response(drill, classroom.student)
    held_by_another_worker(stuck)
    assert grade_code_response(waiting.pk) is False
    clock.advance(minutes=STALE_CLAIM.total_seconds() / 60 + 1)
    assert grade_code_response(waiting.pk) is True


def test_when_a_students_job_ends_their_next_queued_answer_is_sent_quiz_before_practice(
        classroom, code_bank, frozen_clock, settings, monkeypatch, django_capture_on_commit_callbacks):
    settings.RUNNER_MAX_JOBS_PER_STUDENT = 1
    sent: list[int] = []
    monkeypatch.setattr(dispatch, "send", lambda name, response_id: sent.append(response_id))
    drill = practice(classroom.course)
    quiz = make_assessment(classroom.course, "Quiz 2", blueprint=[{"templates": ["t-code-1"]}])
    first = submitted_code_response(drill, classroom.student)
    older_practice = submitted_code_response(drill, classroom.student)
    clock.advance(minutes=1)
    newer_quiz = submitted_code_response(quiz, classroom.student)
    sent.clear()
    with django_capture_on_commit_callbacks(execute=True):
        assert tasks.grade_code_response(first.pk) is True  # the Celery task, run here: grades, then hands on
    assert sent == [newer_quiz.pk]
    assert older_practice.pk not in sent
    assert dispatch_waiting(first.pk, clock.now(), STALE_CLAIM) == [newer_quiz.pk]


def test_practice_starts_beyond_the_rate_are_refused_with_a_clear_message(classroom, code_bank, frozen_clock, settings):
    settings.PRACTICE_STARTS_PER_WINDOW, settings.PRACTICE_START_WINDOW_MINUTES = 2, 10
    drills = [practice(classroom.course, f"Practice {i}") for i in range(2)]
    submitted_code_response(drills[0], classroom.student)
    clock.advance(minutes=3)
    submitted_code_response(drills[1], classroom.student)  # the limit counts all practice assessments
    with pytest.raises(StartRefused) as refused:
        start_attempt(drills[0], classroom.student)
    assert refused.value.message == ("You have started 2 practice attempts in the last 10 minutes. "
                                     "You can start another in 7 minutes.")
    start_attempt(make_assessment(classroom.course, "Quiz 3", blueprint=[{"templates": ["t-code-1"]}]),
                  classroom.student)  # quizzes are not practice: not limited
    clock.advance(minutes=7, seconds=1)
    assert start_attempt(drills[0], classroom.student).state == Attempt.IN_PROGRESS


def test_a_timed_quizs_grading_is_routed_to_its_own_queue_ahead_of_practice(classroom, code_bank, frozen_clock):
    quiz_response = submitted_code_response(make_assessment(classroom.course, blueprint=[{"templates": ["t-code-1"]}]),
                                            classroom.student)
    practice_response = submitted_code_response(practice(classroom.course), classroom.other_student)

    def queue_of(response: Response) -> str:
        return app.amqp.router.route({}, "exams.grade_code_response", args=(response.pk,))["queue"].name

    assert (queue_of(quiz_response), queue_of(practice_response)) == ("grading", "practice")
    assert route_task("exams.auto_submit_expired", (), {}, {}) is None
    # A worker started without -Q (scripts/run.sh, the production lane) consumes every declared queue.
    assert {"grading", "practice", "celery"} <= set(app.amqp.queues)
