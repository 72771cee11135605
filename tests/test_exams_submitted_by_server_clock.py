"""Whether a submit was the student's or the timer's is the server's call: BY_TIMER iff no time is left on the
server's clock (under a second to the deadline, or past it within the grace), whatever the browser says."""
from __future__ import annotations

from datetime import timedelta

import pytest

from exams import clock
from exams.attempts import start_attempt, submit_attempt, time_is_up
from exams.models import Attempt
from tests.exams_personas import (  # noqa: F401 - fixtures
    T0, build_bank, classroom, fast_passwords, frozen_clock, make_assessment,
)
from tests.web_fixtures import logged_in


@pytest.fixture
def attempt(classroom, frozen_clock) -> Attempt:
    build_bank(mcq=1, short=0, code=0)
    quiz = make_assessment(classroom.course, blueprint=[{"qtype": "mcq", "count": 1}])  # 30 minutes from T0
    return start_attempt(quiz, classroom.student)


def test_a_student_posting_reason_timeout_ten_minutes_before_the_deadline_is_recorded_as_the_student(classroom,
                                                                                                     attempt):
    clock.freeze(T0 + timedelta(minutes=20))
    page = logged_in(classroom.student).post(f"/attempts/{attempt.pk}/submit", {"reason": "timeout"})
    assert page.status_code == 302
    attempt.refresh_from_db()
    assert (attempt.state, attempt.submitted_by) == (Attempt.SUBMITTED, Attempt.BY_STUDENT)


def test_a_submit_after_the_deadline_within_the_grace_is_the_timers_even_if_the_page_says_student(classroom,
                                                                                                  attempt):
    clock.freeze(T0 + timedelta(minutes=30, seconds=5))
    logged_in(classroom.student).post(f"/attempts/{attempt.pk}/submit", {"reason": "student"})
    attempt.refresh_from_db()
    assert (attempt.submitted_by, attempt.submitted_at) == (Attempt.BY_TIMER, attempt.deadline)


def test_the_timer_decides_at_the_whole_second_the_countdown_shows_as_zero(attempt):
    assert not time_is_up(attempt, attempt.deadline - timedelta(seconds=1))
    assert time_is_up(attempt, attempt.deadline - timedelta(milliseconds=400))
    assert time_is_up(attempt, attempt.deadline)


def test_a_caller_claiming_the_timer_before_the_deadline_still_gets_the_student(classroom, attempt):
    clock.freeze(T0 + timedelta(minutes=5))
    assert submit_attempt(attempt, submitted_by=Attempt.BY_TIMER).submitted_by == Attempt.BY_STUDENT
