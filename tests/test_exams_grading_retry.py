"""Staff retry automatic grading of an answer in ERROR once its cause is fixed; still failing, it stays ERROR
with the new reason. Every retry is in the audit log."""
from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied

from exams import audit
from exams.attempts import attempt_questions, autosave, start_attempt, submit_attempt
from exams.grading import retry_response_grading
from exams.models import Attempt, AuditEvent, Response
from tests.exams_personas import (  # noqa: F401 - fixtures
    build_bank, classroom, correct_text, fast_passwords, frozen_clock, make_assessment,
)
from tests.grading_faults import BROKEN_SLUG, broken_template, fix_template


@pytest.fixture
def failed(classroom, frozen_clock) -> Response:
    """A submitted attempt whose answer to the broken template is in ERROR (the mcq beside it is graded)."""
    build_bank(mcq=1, short=0, code=0)
    broken_template()
    quiz = make_assessment(classroom.course, blueprint=[{"templates": ["t-mcq-0", BROKEN_SLUG]}])
    attempt = start_attempt(quiz, classroom.student)
    attempt_questions(attempt)
    for slot in attempt.slots.select_related("template_version"):
        autosave(attempt, slot.pk, correct_text(slot), user=classroom.student)
    submit_attempt(attempt)
    return Response.objects.select_related("slot__template", "attempt__assessment__course").get(
        attempt=attempt, slot__template__slug=BROKEN_SLUG)


def test_a_retry_after_the_template_is_fixed_grades_the_answer_with_the_new_version(classroom, failed):
    assert failed.grading_state == Response.ERROR
    fixed = fix_template(failed.slot.template)
    retried = retry_response_grading(failed, classroom.ta)
    assert (retried.grading_state, retried.score, retried.grading_error) == (Response.GRADED, 1.0, "")
    assert retried.graded_version == fixed.current_version
    attempt = Attempt.objects.get(pk=failed.attempt_id)
    assert (attempt.pending_count, attempt.score) == (0, 1.0)


def test_a_retry_that_still_fails_keeps_the_answer_in_error_with_the_new_reason(classroom, failed):
    Response.objects.filter(pk=failed.pk).update(grading_error="an older reason")
    failed.refresh_from_db()
    retried = retry_response_grading(failed, classroom.instructor)
    assert retried.grading_state == Response.ERROR
    assert retried.grading_error.startswith("OverflowError: ")
    assert Attempt.objects.get(pk=failed.attempt_id).pending_count == 1


def test_every_retry_is_recorded_in_the_audit_log_with_the_state_before_and_after(classroom, failed):
    fix_template(failed.slot.template)
    retry_response_grading(failed, classroom.ta)
    event = AuditEvent.objects.get(action=audit.GRADE_RETRY)
    assert (event.actor, event.course, event.target_id) == (classroom.ta, classroom.course, failed.pk)
    assert event.before["grading_state"] == Response.ERROR and event.before["grading_error"].startswith("Overflow")
    assert (event.after["grading_state"], event.after["score"]) == (Response.GRADED, 1.0)


def test_only_the_courses_staff_retry_and_only_answers_in_error(classroom, failed):
    for person in (classroom.student, classroom.outsider):
        with pytest.raises(PermissionDenied):
            retry_response_grading(failed, person)
    graded = Response.objects.get(attempt_id=failed.attempt_id, grading_state=Response.GRADED)
    with pytest.raises(ValueError):
        retry_response_grading(graded, classroom.instructor)
    assert not AuditEvent.objects.filter(action=audit.GRADE_RETRY).exists()
