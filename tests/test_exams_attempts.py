"""Attempts: starting, the server-owned deadline, overrides, autosave and auto-submit (clock frozen)."""
from __future__ import annotations

import threading
from datetime import timedelta

import pytest

from exams import attempts as attempt_services
from exams import clock
from exams.attempts import (
    AttemptClosed, DeadlinePassed, NotYourAttempt, StartCheck, StartRefused, autosave, expire_overdue_attempts,
    remaining_seconds, start_attempt, submit_attempt, unanswered_positions,
)
from exams.models import Attempt, Response
from exams.policy import set_override
from exams.tasks import auto_submit_expired
from tests.exams_personas import (  # noqa: F401 - fixtures
    T0, build_bank, build_classroom, classroom, fast_passwords, frozen_clock, make_assessment,
)


SMALL_QUIZ = [{"qtype": "mcq", "count": 2, "lectures": [1, 3]}, {"qtype": "short", "count": 1, "lectures": [1, 3]},
              {"qtype": "code", "count": 1, "lectures": [1, 3]}]


@pytest.fixture
def quiz(classroom, frozen_clock):
    build_bank(mcq=2, short=1, code=1)  # real templates; submitting generates their variants in the runner
    return make_assessment(classroom.course, blueprint=SMALL_QUIZ)  # 30 minutes, open T0 .. T0 + 1 day


def first_slot_id(attempt: Attempt) -> int:
    return attempt.slots.order_by("position").values_list("pk", flat=True)[0]


def test_starting_gives_a_deadline_of_start_plus_time_limit_and_counts_down(classroom, quiz):
    attempt = start_attempt(quiz, classroom.student)
    assert attempt.deadline == T0 + timedelta(minutes=30)
    assert remaining_seconds(attempt) == 30 * 60
    clock.advance(minutes=10, seconds=30)
    assert remaining_seconds(attempt) == 19 * 60 + 30


def test_the_deadline_never_runs_past_the_closing_time(classroom, quiz):
    quiz.closes_at = T0 + timedelta(minutes=12)
    quiz.save()
    attempt = start_attempt(quiz, classroom.student)
    assert attempt.deadline == T0 + timedelta(minutes=12)


def test_starting_again_resumes_the_same_attempt_with_the_same_remaining_time(classroom, quiz):
    attempt = start_attempt(quiz, classroom.student)
    clock.advance(minutes=5)
    again = start_attempt(quiz, classroom.student)
    assert again.pk == attempt.pk and remaining_seconds(again) == 25 * 60


def test_two_starts_that_both_passed_the_checks_give_one_attempt(classroom, quiz, monkeypatch):
    # Both requests checked before either inserted: the unique constraint decides, the loser gets the winner's.
    monkeypatch.setattr(attempt_services, "start_check", lambda *a, **k: StartCheck(True, "", None, 0, 1))
    first = start_attempt(quiz, classroom.student)
    second = start_attempt(quiz, classroom.student)
    assert first.pk == second.pk
    assert Attempt.objects.filter(assessment=quiz, student=classroom.student).count() == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_concurrent_starts_in_threads_give_one_attempt(fast_passwords):
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("SQLite serialises writers (and its test database is not shared between threads)")
    room = build_classroom("RACE1")
    build_bank()
    quiz = make_assessment(room.course, opens_at=None, closes_at=None)
    barrier = threading.Barrier(2)
    results, errors = [], []

    def start() -> None:
        try:
            barrier.wait()
            results.append(start_attempt(quiz, room.student).pk)
        except Exception as error:  # pragma: no cover - reported below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=start) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert len(set(results)) == 1
    assert Attempt.objects.filter(assessment=quiz, student=room.student).count() == 1


def test_a_student_cannot_start_before_opening_after_closing_or_twice(classroom, quiz):
    clock.freeze(T0 - timedelta(minutes=1))
    with pytest.raises(StartRefused, match="opens at"):
        start_attempt(quiz, classroom.student)
    clock.freeze(T0)
    submit_attempt(start_attempt(quiz, classroom.student))
    with pytest.raises(StartRefused, match="already taken"):
        start_attempt(quiz, classroom.student)
    clock.freeze(T0 + timedelta(days=2))
    with pytest.raises(StartRefused, match="closed"):
        start_attempt(quiz, classroom.other_student)


def test_unpublished_assessments_and_outsiders_cannot_be_started(classroom, quiz):
    with pytest.raises(StartRefused, match="not enrolled"):
        start_attempt(quiz, classroom.outsider)
    quiz.state = "draft"
    quiz.save()
    with pytest.raises(StartRefused, match="not published"):
        start_attempt(quiz, classroom.student)


def test_extra_time_as_percent_and_minutes_extends_the_deadline(classroom, quiz):
    set_override(quiz, classroom.student, extra_percent=50, extra_minutes=5)
    attempt = start_attempt(quiz, classroom.student)
    assert attempt.deadline == T0 + timedelta(minutes=30 + 15 + 5)
    other = start_attempt(quiz, classroom.other_student)
    assert other.deadline == T0 + timedelta(minutes=30)


def test_extra_time_granted_mid_attempt_moves_the_running_deadline(classroom, quiz):
    attempt = start_attempt(quiz, classroom.student)
    set_override(quiz, classroom.student, extra_minutes=10)
    attempt.refresh_from_db()
    assert attempt.deadline == T0 + timedelta(minutes=40)


def test_an_override_with_other_dates_lets_the_student_start_after_the_class_closed(classroom, quiz):
    set_override(quiz, classroom.student, opens_at=T0 + timedelta(days=3), closes_at=T0 + timedelta(days=4))
    clock.freeze(T0 + timedelta(days=3, hours=1))
    attempt = start_attempt(quiz, classroom.student)
    assert attempt.deadline == T0 + timedelta(days=3, hours=1, minutes=30)
    with pytest.raises(StartRefused):
        start_attempt(quiz, classroom.other_student)


def test_autosave_stores_the_latest_answer(classroom, quiz):
    attempt = start_attempt(quiz, classroom.student)
    slot_id = first_slot_id(attempt)
    autosave(attempt, slot_id, "1", user=classroom.student)
    result = autosave(attempt, slot_id, "2", user=classroom.student)
    assert result.saved and result.remaining_seconds == 30 * 60
    response = Response.objects.get(slot_id=slot_id)
    assert (response.text, response.save_count) == ("2", 2)


def test_an_out_of_order_older_save_never_overwrites_a_newer_answer(classroom, quiz):
    attempt = start_attempt(quiz, classroom.student)
    slot_id = first_slot_id(attempt)
    autosave(attempt, slot_id, "newer", user=classroom.student, client_seq=5)
    result = autosave(attempt, slot_id, "older", user=classroom.student, client_seq=4)
    assert result.stale and not result.saved
    assert Response.objects.get(slot_id=slot_id).text == "newer"


def test_autosave_refuses_another_students_attempt_or_a_slot_of_another_attempt(classroom, quiz):
    mine = start_attempt(quiz, classroom.student)
    theirs = start_attempt(quiz, classroom.other_student)
    with pytest.raises(NotYourAttempt):
        autosave(theirs, first_slot_id(theirs), "x", user=classroom.student)
    with pytest.raises(NotYourAttempt):
        autosave(mine, first_slot_id(theirs), "x", user=classroom.student)
    assert Response.objects.get(slot_id=first_slot_id(theirs)).text == ""


def test_a_save_within_the_grace_period_is_kept_and_a_later_one_refused_without_losing_the_answer(classroom, quiz):
    attempt = start_attempt(quiz, classroom.student)
    slot_id = first_slot_id(attempt)
    clock.freeze(T0 + timedelta(minutes=30, seconds=10))  # request in flight at the deadline
    assert autosave(attempt, slot_id, "in time", user=classroom.student).saved
    clock.freeze(T0 + timedelta(minutes=30, seconds=16))
    with pytest.raises(DeadlinePassed):
        autosave(attempt, slot_id, "too late", user=classroom.student)
    assert Response.objects.get(slot_id=slot_id).text == "in time"


def test_saving_after_submission_is_refused(classroom, quiz):
    attempt = start_attempt(quiz, classroom.student)
    slot_id = first_slot_id(attempt)
    autosave(attempt, slot_id, "3", user=classroom.student)
    submit_attempt(attempt, user=classroom.student)
    with pytest.raises(AttemptClosed):
        autosave(attempt, slot_id, "4", user=classroom.student)
    assert Response.objects.get(slot_id=slot_id).text == "3"


def test_submitting_twice_changes_nothing_and_records_who_submitted(classroom, quiz):
    attempt = start_attempt(quiz, classroom.student)
    clock.advance(minutes=3)
    first = submit_attempt(attempt, user=classroom.student)
    clock.advance(minutes=3)
    second = submit_attempt(attempt, user=classroom.student)
    assert first.submitted_at == second.submitted_at == T0 + timedelta(minutes=3)
    assert second.submitted_by == Attempt.BY_STUDENT and second.state == Attempt.SUBMITTED
    with pytest.raises(NotYourAttempt):
        submit_attempt(attempt, user=classroom.other_student)


def test_unanswered_questions_are_listed_for_the_submit_confirmation(classroom, quiz):
    attempt = start_attempt(quiz, classroom.student)
    for slot in attempt.slots.filter(position__in=[1, 3]):
        autosave(attempt, slot.pk, "5", user=classroom.student)
    assert unanswered_positions(attempt) == [2, 4]


def test_the_beat_task_submits_attempts_whose_time_ran_out_with_what_was_saved(classroom, quiz):
    abandoned = start_attempt(quiz, classroom.student)
    autosave(abandoned, first_slot_id(abandoned), "saved before leaving", user=classroom.student)
    clock.advance(minutes=20)
    still_running = start_attempt(quiz, classroom.other_student)
    clock.freeze(T0 + timedelta(minutes=30, seconds=20))
    assert auto_submit_expired() == 1  # the task function, called directly
    abandoned.refresh_from_db()
    still_running.refresh_from_db()
    assert abandoned.state == Attempt.SUBMITTED and abandoned.submitted_by == Attempt.BY_TIMER
    assert abandoned.submitted_at == abandoned.deadline
    assert Response.objects.get(slot_id=first_slot_id(abandoned)).grading_state != ""
    assert still_running.state == Attempt.IN_PROGRESS
    assert expire_overdue_attempts() == 0


def test_an_attempt_with_extra_time_is_not_auto_submitted_at_the_normal_deadline(classroom, quiz):
    set_override(quiz, classroom.student, extra_minutes=15)
    attempt = start_attempt(quiz, classroom.student)
    clock.freeze(T0 + timedelta(minutes=35))
    expire_overdue_attempts()
    attempt.refresh_from_db()
    assert attempt.state == Attempt.IN_PROGRESS and remaining_seconds(attempt) == 10 * 60
