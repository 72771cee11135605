"""A late submission is told: the start page warns once the due time has passed, and the result page says
how late the submission was, what it cost and the score before and after."""
from __future__ import annotations

from datetime import timedelta

import pytest

from exams import attempts, clock
from exams.models import Attempt
from exams.policy import set_override
from quizbank.models import Variant
from tests.web_fixtures import *  # noqa: F403


@pytest.fixture
def still_clock():
    """The clock stopped at the real now: minutes late stay exact however slow the shared machine is."""
    clock.freeze(clock.now())
    yield
    clock.unfreeze()


def answer_and_submit(quiz, student) -> Attempt:
    """Right on the short question, wrong on the multiple choice: 50% before any penalty."""
    attempt = attempts.start_attempt(quiz, student)
    attempts.attempt_questions(attempt)
    for slot in attempt.slots.select_related("template"):
        key = Variant.objects.get(version=slot.template_version, seed=slot.seed).key
        text = f"{key['answer']:g}" if slot.template.slug == "web-double" else str((key["correct_index"] + 1) % 4)
        attempts.autosave(attempt, slot.pk, text, user=student)
    return attempts.submit_attempt(attempt, user=student)


def test_the_start_page_warns_that_a_submission_now_loses_the_current_tier(course, bank, student):
    quiz = make_quiz(course, slugs=["web-double"], due_at=clock.now() - timedelta(minutes=5))
    page = logged_in(student).get(f"/assessments/{quiz.pk}/").content.decode()
    assert 'id="late-warning"' in page
    assert "The due time has passed: a submission now loses 10% of its score." in page


def test_the_start_page_does_not_warn_before_the_students_own_due_time(course, bank, student, other_student):
    quiz = make_quiz(course, slugs=["web-double"], due_at=clock.now() - timedelta(minutes=5))
    set_override(quiz, student, due_at=clock.now() + timedelta(hours=1))
    assert 'id="late-warning"' not in logged_in(student).get(f"/assessments/{quiz.pk}/").content.decode()
    assert 'id="late-warning"' in logged_in(other_student).get(f"/assessments/{quiz.pk}/").content.decode()


def test_the_start_page_warns_of_the_second_tier_after_thirty_minutes(course, bank, student):
    quiz = make_quiz(course, slugs=["web-double"], due_at=clock.now() - timedelta(hours=2))
    page = logged_in(student).get(f"/assessments/{quiz.pk}/").content.decode()
    assert "a submission now loses 25% of its score" in page


def test_the_result_page_shows_the_minutes_late_the_penalty_and_the_score_before_and_after(course, bank, student,
                                                                                           still_clock):
    now = clock.now()
    quiz = make_quiz(course, slugs=["web-double", "web-pick"], due_at=now - timedelta(minutes=11, seconds=30),
                     results_released_at=now - timedelta(minutes=1))
    attempt = answer_and_submit(quiz, student)
    page = logged_in(student).get(f"/attempts/{attempt.pk}/").content.decode()
    assert 'id="late-penalty"' in page
    assert "Submitted 12 min late: −10% (score 50% → 45%)" in page


def test_before_release_the_result_page_still_says_the_submission_was_late_but_not_the_score(course, bank, student,
                                                                                             still_clock):
    quiz = make_quiz(course, slugs=["web-double", "web-pick"], due_at=clock.now() - timedelta(minutes=40))
    attempt = answer_and_submit(quiz, student)
    page = logged_in(student).get(f"/attempts/{attempt.pk}/").content.decode()
    assert "Submitted 40 min late: −25% of the score." in page
    assert "score 50%" not in page


def test_an_on_time_submission_shows_no_late_notice(course, bank, student):
    quiz = make_quiz(course, slugs=["web-double", "web-pick"], due_at=clock.now() + timedelta(hours=1),
                     results_released_at=clock.now() - timedelta(minutes=1))
    attempt = answer_and_submit(quiz, student)
    assert 'id="late-penalty"' not in logged_in(student).get(f"/attempts/{attempt.pk}/").content.decode()
