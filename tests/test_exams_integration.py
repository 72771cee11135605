"""One attempt end to end with the real engine and the sandboxed runner (no fakes): generate, answer,
submit, grade a short answer inline and code completion through the task function, then regrade."""
from __future__ import annotations

from dataclasses import replace

import pytest

from exams.attempts import attempt_questions, autosave, start_attempt, submit_attempt
from exams.grading import grade_code_response, regrade_template
from exams.models import Response
from quizbank import services as bank
from quizbank.models import Variant
from tests.exams_personas import classroom, fast_passwords, frozen_clock, make_assessment  # noqa: F401
from tests.specs import COMPLETION, SHAPE_SHORT

pytestmark = pytest.mark.sandbox


def test_a_real_attempt_is_graded_by_the_engine_and_the_runner_and_regraded_after_a_fix(classroom, frozen_clock):
    shape = bank.save_spec(SHAPE_SHORT)
    bank.save_spec(COMPLETION)
    quiz = make_assessment(classroom.course, blueprint=[{"templates": [SHAPE_SHORT.slug, COMPLETION.slug]}])
    attempt = start_attempt(quiz, classroom.student)
    questions = {q.public["kind"]: q for q in attempt_questions(attempt)}
    assert "answer" not in questions["short"].public and "expected_tests" not in questions["completion"].public
    short_slot = attempt.slots.get(template__slug=SHAPE_SHORT.slug)
    key = Variant.objects.get(version=short_slot.template_version, seed=short_slot.seed).key
    autosave(attempt, questions["short"].slot_id, str(tuple(key["answer"])), user=classroom.student)
    autosave(attempt, questions["completion"].slot_id, "return torch.clamp(x, min=0)\n", user=classroom.student)
    attempt = submit_attempt(attempt, user=classroom.student)
    assert (attempt.score, attempt.pending_count) == (0.5, 1)
    code = Response.objects.get(attempt=attempt, slot__template__slug=COMPLETION.slug)
    assert grade_code_response(code.pk) is True
    attempt.refresh_from_db()
    assert (attempt.score, attempt.pending_count) == (1.0, 0)
    # The shape template had a bug: the fixed version transposes, so the same seed's key changes.
    fixed = bank.save_spec(replace(shape.to_spec(), solution="answer = (torch.randn(n, m) @ torch.randn(m, k)).T.shape\n"))
    regrade_template(fixed, fixed.current_version)
    attempt.refresh_from_db()
    expected = 1.0 if key["answer"][0] == key["answer"][1] else 0.5
    assert attempt.score == expected
