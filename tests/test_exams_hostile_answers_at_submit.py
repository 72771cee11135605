"""The answers that once made a submit answer 500, stall for minutes or score full marks by accident, typed
into real numeric, integer and shape questions and sent through autosave, a student's submit and the
sweeper's auto-submit: every attempt closes, every such answer is graded "invalid" with the message the
student saw while answering, and nothing goes to ERROR. Runs on SQLite and in the PostgreSQL lane."""
from __future__ import annotations

import dataclasses
from datetime import timedelta

import pytest

from exams import clock
from exams.attempts import attempt_questions, autosave, expire_overdue_attempts, start_attempt, submit_attempt
from exams.models import Attempt, Response
from quizbank import services as bank
from quizbank.checking import format_verdict
from tests.exams_personas import T0, classroom, fast_passwords, frozen_clock, make_assessment, spec_for  # noqa: F401

HOSTILE = {
    "numeric": ["1x10^999", "2 × 10^400", "9" * 400 + "/1", "1" * 5000 + "/1", "abc", "16,56", "93%", "3.14 m"],
    "integer": ["1e400000", "1e1000000", "1,1", "0,0", "9" * 5000],
    "shape": ["(3,4", "(" + "9" * 5000 + ", 3)", "((((((((3))))))))", "[3, -4]"],
}
SLUGS = {answer_format: f"hostile-{answer_format}" for answer_format in HOSTILE}


@pytest.fixture
def quiz(classroom, frozen_clock):
    for answer_format, slug in SLUGS.items():
        spec = spec_for(slug, "short", "short", answer={"format": answer_format})
        if answer_format == "shape":
            spec = dataclasses.replace(spec, solution="answer = [a, 2]\n")
        bank.save_spec(spec)
    return make_assessment(classroom.course, blueprint=[{"templates": list(SLUGS.values())}])


def typed_attempt(quiz, student, answers: dict[str, str]) -> Attempt:
    attempt = start_attempt(quiz, student)
    attempt_questions(attempt)
    for slot in attempt.slots.select_related("template"):
        answer_format = next(f for f, slug in SLUGS.items() if slug == slot.template.slug)
        autosave(attempt, slot.pk, answers[answer_format], user=student)
    return attempt


def assert_graded_invalid_with_the_saved_message(attempt: Attempt, answers: dict[str, str]) -> None:
    attempt.refresh_from_db()
    assert attempt.state == Attempt.SUBMITTED
    for response in attempt.responses.select_related("slot__template", "slot__template_version"):
        answer_format = next(f for f, slug in SLUGS.items() if slug == response.slot.template.slug)
        variant = bank.variant_for(response.slot.template_version, response.slot.seed)
        verdict = format_verdict(variant.public, {"format": answer_format}, answers[answer_format])
        assert response.grading_state == Response.GRADED, response.grading_error
        assert (response.valid, response.score) == (False, 0.0), (answer_format, answers[answer_format][:40])
        assert response.feedback == verdict.message and verdict.message


@pytest.mark.parametrize("index", range(max(len(texts) for texts in HOSTILE.values())))
def test_a_students_submit_closes_the_attempt_and_marks_each_hostile_answer_invalid(classroom, quiz, index):
    answers = {answer_format: texts[index % len(texts)] for answer_format, texts in HOSTILE.items()}
    attempt = typed_attempt(quiz, classroom.student, answers)
    submit_attempt(attempt, user=classroom.student)
    assert_graded_invalid_with_the_saved_message(attempt, answers)


def test_the_sweeper_closes_an_abandoned_attempt_full_of_hostile_answers(classroom, quiz):
    answers = {answer_format: texts[0] for answer_format, texts in HOSTILE.items()}
    attempt = typed_attempt(quiz, classroom.student, answers)
    clock.freeze(T0 + timedelta(minutes=31))
    assert expire_overdue_attempts() == 1
    assert_graded_invalid_with_the_saved_message(attempt, answers)
    attempt.refresh_from_db()
    assert attempt.submitted_by == Attempt.BY_TIMER and attempt.close_error == ""


def test_the_integer_format_no_longer_reads_a_decimal_comma_as_a_thousands_separator(classroom, quiz):
    attempt = start_attempt(quiz, classroom.student)
    attempt_questions(attempt)
    slot = attempt.slots.get(template__slug=SLUGS["integer"])
    variant = bank.variant_for(slot.template_version, slot.seed)
    answer = int(variant.key["answer"])
    autosave(attempt, slot.pk, f"{answer // 10},{answer % 10}", user=classroom.student)  # 1,4 for 14: once full marks
    submit_attempt(attempt, user=classroom.student)
    response = Response.objects.get(slot=slot)
    assert (response.valid, response.score) == (False, 0.0)
