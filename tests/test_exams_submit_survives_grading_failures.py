"""A submit, an auto-submit and a regrade close or regrade every other response whatever one response's
checking raises: that response goes to ERROR with the reason for staff, the student reads a plain message."""
from __future__ import annotations

from datetime import timedelta

import pytest

from exams import clock, grading
from exams.attempts import attempt_questions, autosave, expire_overdue_attempts, start_attempt, submit_attempt
from exams.grading import ERROR_FEEDBACK, attempt_review, regrade_template
from exams.models import Attempt, Response
from quizbank.models import Template
from tests.exams_personas import (  # noqa: F401 - fixtures
    T0, build_bank, classroom, correct_text, fast_passwords, frozen_clock, make_assessment,
)
from tests.grading_faults import BROKEN_SLUG, assert_the_checker_raises, broken_template

BLUEPRINT = [{"templates": ["t-mcq-0", "t-short-0", BROKEN_SLUG]}]


@pytest.fixture
def quiz(classroom, frozen_clock):
    build_bank(mcq=1, short=1, code=0)
    broken_template()
    return make_assessment(classroom.course, blueprint=BLUEPRINT)


def answered(quiz, student) -> Attempt:
    """Every question answered right (the broken one with the number its key holds)."""
    attempt = start_attempt(quiz, student)
    attempt_questions(attempt)
    for slot in attempt.slots.select_related("template", "template_version"):
        autosave(attempt, slot.pk, correct_text(slot), user=student)
    return attempt


def by_slug(attempt: Attempt) -> dict[str, Response]:
    responses = attempt.responses.select_related("slot__template", "slot__template_version")
    return {response.slot.template.slug: response for response in responses}


def test_a_submit_closes_the_attempt_and_grades_the_others_when_one_answers_checking_raises(classroom, quiz):
    attempt = answered(quiz, classroom.student)
    broken = by_slug(attempt)[BROKEN_SLUG]
    assert_the_checker_raises(broken.slot, broken.text)
    submitted = submit_attempt(attempt, user=classroom.student)
    responses = by_slug(submitted)
    assert submitted.state == Attempt.SUBMITTED and submitted.submitted_by == Attempt.BY_STUDENT
    assert [(responses[s].grading_state, responses[s].score) for s in ("t-mcq-0", "t-short-0")] == [
        (Response.GRADED, 1.0), (Response.GRADED, 1.0)]
    error = responses[BROKEN_SLUG]
    assert (error.grading_state, error.score, error.feedback) == (Response.ERROR, None, ERROR_FEEDBACK)
    assert error.grading_error.startswith("OverflowError: ")
    assert (submitted.pending_count, submitted.score) == (1, pytest.approx(2 / 3))


def test_the_student_review_says_it_will_be_graded_by_staff_and_never_shows_the_reason(classroom, quiz):
    quiz.results_released_at = T0
    quiz.save()
    attempt = submit_attempt(answered(quiz, classroom.student))
    review = attempt_review(attempt)
    item = next(i for i in review.items if i.grading_state == Response.ERROR)
    assert item.feedback == ERROR_FEEDBACK and item.score is None
    assert review.pending_count == 1
    assert "OverflowError" not in repr(review)


def test_the_sweeper_closes_an_abandoned_attempt_whose_answer_cannot_be_checked(classroom, quiz):
    attempt = answered(quiz, classroom.student)
    clock.freeze(T0 + timedelta(minutes=31))
    assert expire_overdue_attempts() == 1
    attempt.refresh_from_db()
    assert (attempt.state, attempt.submitted_by, attempt.close_error) == (Attempt.SUBMITTED, Attempt.BY_TIMER, "")
    assert by_slug(attempt)[BROKEN_SLUG].grading_state == Response.ERROR
    assert expire_overdue_attempts() == 0  # nothing left failing every 30 s


def test_whatever_the_checker_raises_only_that_response_goes_to_error(classroom, quiz, monkeypatch):
    real_check = grading.check

    def check_that_fails_on_short_answers(public, key, answer_config, text):
        # Fault injection: any exception type, not only the ones today's checker happens to raise.
        if answer_config.get("format") == "numeric" and "sigfigs" not in answer_config:
            raise KeyError("answer")
        return real_check(public, key, answer_config, text)

    monkeypatch.setattr(grading, "check", check_that_fails_on_short_answers)
    attempt = submit_attempt(answered(quiz, classroom.student))
    states = {slug: r.grading_state for slug, r in by_slug(attempt).items()}
    assert states == {"t-mcq-0": Response.GRADED, "t-short-0": Response.ERROR, BROKEN_SLUG: Response.ERROR}
    assert by_slug(attempt)["t-short-0"].grading_error == "KeyError: 'answer'"


def test_a_database_error_while_storing_one_grade_does_not_undo_the_submit_or_the_other_grades(classroom, quiz,
                                                                                             monkeypatch):
    real_apply = grading._apply_check

    def apply_with_an_unstorable_value(response, result, version, now):
        real_apply(response, result, version, now)
        if response.slot.template.slug == "t-short-0":
            # Fault injection: NaN is not JSON; the database itself refuses the row (PostgreSQL: invalid json,
            # SQLite: the JSON_VALID check), inside the submit's transaction.
            response.feedback_data = {"value": float("nan")}

    monkeypatch.setattr(grading, "_apply_check", apply_with_an_unstorable_value)
    attempt = submit_attempt(answered(quiz, classroom.student))
    responses = by_slug(attempt)
    assert attempt.state == Attempt.SUBMITTED
    assert responses["t-mcq-0"].grading_state == Response.GRADED
    assert responses["t-short-0"].grading_state == Response.ERROR and responses["t-short-0"].grading_error
    assert responses["t-short-0"].feedback_data == {}


def test_a_regrade_grades_every_other_response_when_the_new_version_makes_checking_raise(classroom, frozen_clock):
    from dataclasses import replace

    from quizbank import services as bank

    build_bank(mcq=0, short=1, code=0)
    quiz = make_assessment(classroom.course, blueprint=[{"templates": ["t-short-0"]}])
    mine = submit_attempt(answered(quiz, classroom.student))
    theirs = submit_attempt(answered(quiz, classroom.other_student))
    template = Template.objects.get(slug="t-short-0")
    broken = bank.save_spec(replace(template.to_spec(), answer={"format": "numeric", "sigfigs": 10 ** 400}))
    report = regrade_template(broken, course=classroom.course)
    assert (report.responses, report.errors) == (2, 2)
    for attempt in (mine, theirs):
        attempt.refresh_from_db()
        response = attempt.responses.get()
        assert response.grading_state == Response.ERROR and response.graded_version == broken.current_version
        assert attempt.pending_count == 1
    fixed = bank.save_spec(replace(template.to_spec(), answer={"format": "numeric"}))
    report = regrade_template(fixed, course=classroom.course)
    assert (report.responses, report.changed, report.errors) == (2, 2, 0)
    assert set(Response.objects.values_list("grading_state", "grading_error")) == {(Response.GRADED, "")}


def test_when_grading_the_whole_attempt_fails_it_is_still_submitted_with_every_answer_kept_for_staff(
        classroom, quiz, monkeypatch):
    attempt = answered(quiz, classroom.student)
    saved = {response.pk: response.text for response in attempt.responses.all()}

    def grading_that_fails_as_a_whole(*args, **kwargs):
        grading.Response.objects.filter(attempt=attempt).update(score=1.0)  # half-done work, rolled back
        raise RuntimeError("the checker's module could not be imported")

    monkeypatch.setattr(grading, "grade_submitted_responses", grading_that_fails_as_a_whole)
    submitted = submit_attempt(attempt, user=classroom.student)
    stored = Attempt.objects.get(pk=attempt.pk)
    assert (submitted.state, stored.state) == (Attempt.SUBMITTED, Attempt.SUBMITTED)
    assert (stored.score, stored.pending_count) == (submitted.score, submitted.pending_count) == (0.0, 3)
    responses = list(stored.responses.all())
    assert {response.pk: response.text for response in responses} == saved
    assert {(response.grading_state, response.score) for response in responses} == {(Response.ERROR, None)}
    assert all("could not be imported" in response.grading_error for response in responses)
