"""Staff force-submit a stuck in-progress attempt: submitted by staff, graded like any submit, audited."""
from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied

from exams import audit, clock
from exams.attempts import AttemptClosed, attempt_questions, autosave, force_submit, start_attempt, stuck_attempts
from exams.models import Attempt, AuditEvent, Response
from tests.exams_personas import (  # noqa: F401 - fixtures
    T0, build_bank, classroom, correct_text, fast_passwords, frozen_clock, make_assessment,
)


@pytest.fixture
def stuck(classroom, frozen_clock) -> Attempt:
    build_bank(mcq=1, short=1, code=0)
    quiz = make_assessment(classroom.course, blueprint=[{"qtype": "mcq", "count": 1}, {"qtype": "short", "count": 1}])
    attempt = start_attempt(quiz, classroom.student)
    attempt_questions(attempt)
    for slot in attempt.slots.all():
        autosave(attempt, slot.pk, correct_text(slot), user=classroom.student)
    clock.freeze(T0 + timedelta(hours=2))
    Attempt.objects.filter(pk=attempt.pk).update(close_error="OperationalError: database is locked",
                                                 close_failed_at=T0 + timedelta(minutes=31))
    return Attempt.objects.select_related("assessment__course").get(pk=attempt.pk)


def test_a_ta_force_submits_a_stuck_attempt_and_what_was_saved_is_graded(classroom, stuck):
    assert list(stuck_attempts(assessment__course=classroom.course)) == [stuck]
    closed = force_submit(stuck, classroom.ta)
    assert (closed.state, closed.submitted_by, closed.submitted_at) == (Attempt.SUBMITTED, Attempt.BY_STAFF,
                                                                         stuck.deadline)
    assert (closed.close_error, closed.close_failed_at) == ("", None)
    assert (closed.score, closed.pending_count) == (1.0, 0)
    assert set(closed.responses.values_list("grading_state", flat=True)) == {Response.GRADED}
    assert list(stuck_attempts(assessment__course=classroom.course)) == []


def test_a_force_submit_is_recorded_in_the_audit_log(classroom, stuck):
    force_submit(stuck, classroom.instructor)
    event = AuditEvent.objects.get(action=audit.ATTEMPT_FORCE_SUBMIT)
    assert (event.actor, event.course, event.target_id) == (classroom.instructor, classroom.course, stuck.pk)
    assert event.before == {"state": Attempt.IN_PROGRESS, "close_error": "OperationalError: database is locked"}
    assert (event.after["state"], event.after["submitted_by"]) == (Attempt.SUBMITTED, Attempt.BY_STAFF)


def test_students_and_outsiders_cannot_force_submit(classroom, stuck):
    for person in (classroom.student, classroom.other_student, classroom.outsider):
        with pytest.raises(PermissionDenied):
            force_submit(stuck, person)
    assert Attempt.objects.get(pk=stuck.pk).state == Attempt.IN_PROGRESS


def test_force_submitting_an_attempt_already_submitted_is_refused_and_changes_nothing(classroom, stuck):
    force_submit(stuck, classroom.ta)
    with pytest.raises(AttemptClosed):
        force_submit(stuck, classroom.instructor)
    assert AuditEvent.objects.filter(action=audit.ATTEMPT_FORCE_SUBMIT).count() == 1
