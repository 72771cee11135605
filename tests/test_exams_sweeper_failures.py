"""The beat sweeper's failures reach staff: an attempt that cannot be closed keeps why (close_error, and since
when), the others still close, and a later success clears it."""
from __future__ import annotations

from datetime import timedelta

import pytest

from exams import attempts, clock
from exams.attempts import expire_overdue_attempts, start_attempt, start_check, stuck_attempts
from exams.models import Attempt
from exams.tasks import auto_submit_expired
from tests.exams_personas import (  # noqa: F401 - fixtures
    T0, build_bank, classroom, fast_passwords, frozen_clock, make_assessment,
)


@pytest.fixture
def two_abandoned(classroom, frozen_clock) -> tuple[Attempt, Attempt]:
    build_bank(mcq=1, short=0, code=0)
    quiz = make_assessment(classroom.course, blueprint=[{"qtype": "mcq", "count": 1}])
    pair = start_attempt(quiz, classroom.student), start_attempt(quiz, classroom.other_student)
    clock.freeze(T0 + timedelta(minutes=31))
    return pair


def fail_to_submit(monkeypatch, attempt: Attempt) -> None:
    """Fault injection: grading can no longer stop a submit, so what is left is the unforeseen (the database
    refusing the write); make closing this one attempt raise, exactly where the sweeper calls it."""
    real_submit = attempts.submit_attempt

    def submit(candidate, **kwargs):
        if candidate.pk == attempt.pk:
            raise RuntimeError("the database refused the write")
        return real_submit(candidate, **kwargs)

    monkeypatch.setattr(attempts, "submit_attempt", submit)


def test_an_attempt_that_fails_to_close_keeps_the_reason_and_the_others_still_close(two_abandoned, monkeypatch):
    failing, fine = two_abandoned
    fail_to_submit(monkeypatch, failing)
    assert auto_submit_expired() == 1
    failing.refresh_from_db()
    fine.refresh_from_db()
    assert fine.state == Attempt.SUBMITTED and fine.close_error == ""
    assert failing.state == Attempt.IN_PROGRESS
    assert failing.close_error == "RuntimeError: the database refused the write"
    assert failing.close_failed_at == T0 + timedelta(minutes=31)


def test_repeated_failures_keep_the_time_of_the_first_and_a_later_success_clears_them(two_abandoned, monkeypatch):
    failing, _ = two_abandoned
    fail_to_submit(monkeypatch, failing)
    expire_overdue_attempts()
    clock.advance(seconds=30)
    expire_overdue_attempts()
    failing.refresh_from_db()
    assert failing.close_failed_at == T0 + timedelta(minutes=31)
    assert list(stuck_attempts(assessment=failing.assessment)) == [failing]
    monkeypatch.undo()
    assert expire_overdue_attempts() == 1
    failing.refresh_from_db()
    assert (failing.state, failing.submitted_by) == (Attempt.SUBMITTED, Attempt.BY_TIMER)
    assert (failing.close_error, failing.close_failed_at) == ("", None)


def test_a_failed_close_on_the_students_own_page_view_is_recorded_instead_of_breaking_the_page(classroom,
                                                                                                two_abandoned,
                                                                                                monkeypatch):
    failing, _ = two_abandoned
    fail_to_submit(monkeypatch, failing)
    check = start_check(failing.assessment, classroom.student)
    assert check.resume == failing  # still open: the page says it is waiting to be submitted
    failing.refresh_from_db()
    assert failing.close_error.startswith("RuntimeError")
