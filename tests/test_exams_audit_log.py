"""Grade changes are deliberate and recorded: every service that changes a grade, an excusal, extra time, a
manual entry, a release, the roster or a template writes one audit event with who, when, before and after;
overriding an automatic or an instructor's grade is for instructors, with a reason; regrade says what it left."""
from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied

from exams import audit, clock
from exams.attempts import attempt_questions, autosave, start_attempt, submit_attempt
from exams.grading import grade_manually, regrade_template
from exams.gradebook import excuse, set_manual_grade, unexcuse
from exams.models import AuditEvent, ManualGradeItem, Response
from exams.policy import set_override
from exams.releases import set_release
from quizbank import services as bank
from quizbank.models import Template
from tests.exams_personas import (  # noqa: F401 - fixtures
    T0, build_bank, classroom, correct_text, fast_passwords, frozen_clock, make_assessment, spec_for,
)


def submitted(assessment, student, answer_for):
    attempt = start_attempt(assessment, student)
    attempt_questions(attempt)
    for slot in attempt.slots.select_related("template"):
        autosave(attempt, slot.pk, answer_for(slot), user=student)
    return submit_attempt(attempt)


@pytest.fixture
def auto_graded(classroom, frozen_clock) -> Response:
    """A short answer graded right by the machine (score 1.0, graded_by None)."""
    build_bank(mcq=0, short=1, code=0)
    quiz = make_assessment(classroom.course, blueprint=[{"qtype": "short", "count": 1}])
    return submitted(quiz, classroom.student, correct_text).responses.select_related("slot").get()


@pytest.fixture
def waiting(classroom, frozen_clock) -> Response:
    """A manual-format answer waiting for a grader."""
    bank.save_spec(spec_for("explain", "short", "short", answer={"format": "manual", "rubric": "scaling"}))
    quiz = make_assessment(classroom.course, title="Essay", blueprint=[{"templates": ["explain"]}])
    return submitted(quiz, classroom.student, lambda slot: "It keeps the expected value.").responses.get()


def only_event(action: str) -> AuditEvent:
    return AuditEvent.objects.get(action=action)


def test_a_ta_grading_an_answer_that_waits_for_a_grader_is_recorded_as_a_manual_grade(classroom, waiting):
    grade_manually(waiting, classroom.ta, 0.5, "Half.")
    event = only_event(audit.GRADE_MANUAL)
    assert (event.actor, event.course, event.target_id, event.reason) == (classroom.ta, classroom.course, waiting.pk, "")
    assert (event.before["score"], event.before["grading_state"]) == (None, Response.MANUAL)
    assert (event.after["score"], event.after["graded_by"], event.after["student"]) == (0.5, classroom.ta.username,
                                                                                       classroom.student.pk)
    assert event.created_at == T0


def test_a_ta_cannot_override_an_automatic_grade(classroom, auto_graded):
    with pytest.raises(PermissionDenied, match="Only an instructor"):
        grade_manually(auto_graded, classroom.ta, 0.0, "Nope.", reason="I think so")
    auto_graded.refresh_from_db()
    assert (auto_graded.score, auto_graded.graded_by) == (1.0, None)
    assert not AuditEvent.objects.filter(action__startswith="grade.").exists()


def test_a_ta_cannot_overwrite_an_instructors_grade(classroom, waiting):
    grade_manually(waiting, classroom.instructor, 0.9)
    with pytest.raises(PermissionDenied):
        grade_manually(waiting, classroom.ta, 0.1)
    waiting.refresh_from_db()
    assert (waiting.score, waiting.graded_by) == (0.9, classroom.instructor)


def test_an_instructors_override_of_an_automatic_grade_needs_a_reason_and_is_recorded_with_it(classroom, auto_graded):
    with pytest.raises(ValueError, match="Say why"):
        grade_manually(auto_graded, classroom.instructor, 0.5, "")
    with pytest.raises(ValueError):
        grade_manually(auto_graded, classroom.instructor, 0.5, "", reason="   ")
    auto_graded.refresh_from_db()
    assert auto_graded.score == 1.0 and not AuditEvent.objects.filter(action=audit.GRADE_OVERRIDE).exists()
    grade_manually(auto_graded, classroom.instructor, 0.5, "Units missing.", reason="Units were required")
    event = only_event(audit.GRADE_OVERRIDE)
    assert (event.actor, event.reason) == (classroom.instructor, "Units were required")
    assert (event.before["score"], event.before["graded_by"]) == (1.0, None)
    assert (event.after["score"], event.after["graded_by"], event.after["feedback"]) == (
        0.5, classroom.instructor.username, "Units missing.")


def test_regrade_reports_the_responses_it_left_alone_because_staff_graded_them_by_hand(classroom, auto_graded):
    grade_manually(auto_graded, classroom.instructor, 0.8, reason="Partial credit")
    template = Template.objects.get(slug="t-short-0")
    fixed = bank.save_spec(replace(template.to_spec(), solution="answer = a * 3\n"))
    report = regrade_template(fixed, course=classroom.course, by=classroom.instructor)
    assert (report.responses, report.kept_overrides, report.kept_response_ids) == (0, 1, (auto_graded.pk,))
    auto_graded.refresh_from_db()
    assert auto_graded.score == 0.8
    event = only_event(audit.GRADE_REGRADE)
    assert (event.actor, event.course) == (classroom.instructor, classroom.course)
    assert (event.after["kept_overrides"], event.after["kept_response_ids"]) == (1, [auto_graded.pk])


def test_excusing_and_unexcusing_are_recorded_with_the_reason(classroom, frozen_clock):
    quiz = make_assessment(classroom.course, blueprint=[])
    excuse(quiz, classroom.student, by=classroom.instructor, reason="medical")
    unexcuse(quiz, classroom.student, by=classroom.instructor)
    added, removed = only_event(audit.EXCUSAL_ADD), only_event(audit.EXCUSAL_REMOVE)
    assert (added.actor, added.reason, added.before["excused"], added.after["excused"]) == (
        classroom.instructor, "medical", False, True)
    assert (removed.before["reason"], removed.after["excused"], removed.after["student"]) == (
        "medical", False, classroom.student.pk)


def test_extra_time_is_recorded_with_the_old_and_new_values(classroom, frozen_clock):
    quiz = make_assessment(classroom.course, blueprint=[])
    set_override(quiz, classroom.student, extra_minutes=10, by=classroom.instructor)
    set_override(quiz, classroom.student, extra_percent=50, closes_at=T0 + timedelta(days=2), by=classroom.instructor)
    first, second = AuditEvent.objects.filter(action=audit.OVERRIDE_SET).order_by("id")
    assert "extra_minutes" not in first.before and first.after["extra_minutes"] == 10
    assert (second.before["extra_minutes"], second.after["extra_minutes"]) == (10, 0)
    assert (second.before["extra_percent"], second.after["extra_percent"]) == (0, 50)
    assert second.after["closes_at"] == (T0 + timedelta(days=2)).isoformat()


def test_a_manual_grade_entry_is_recorded_with_the_points_before_and_after(classroom):
    item = ManualGradeItem.objects.create(course=classroom.course, title="Team project", max_points=Decimal(100))
    set_manual_grade(item, classroom.student, "80", by=classroom.instructor)
    set_manual_grade(item, classroom.student, "85.5", by=classroom.instructor, feedback="Regraded report")
    first, second = AuditEvent.objects.filter(action=audit.MANUAL_ENTRY).order_by("id")
    assert "points" not in first.before and first.after["points"] == "80"
    assert (second.before["points"], second.after["points"], second.after["feedback"]) == (
        "80.00", "85.5", "Regraded report")


def test_releasing_results_and_answers_is_recorded(classroom, frozen_clock):
    quiz = make_assessment(classroom.course, blueprint=[])
    set_release(quiz, results_released_at=T0, answers_released_at=None, by=classroom.instructor)
    set_release(quiz, results_released_at=T0, answers_released_at=None, by=classroom.instructor)  # no change
    event = only_event(audit.RELEASE)
    assert event.before == {"results_released_at": None, "answers_released_at": None}
    assert event.after == {"results_released_at": T0.isoformat(), "answers_released_at": None}


def test_a_template_edit_by_a_person_is_recorded_without_a_course_and_a_system_load_is_not(classroom):
    spec = spec_for("edited", "short", "short")
    bank.save_spec(spec)
    assert not AuditEvent.objects.filter(action=audit.TEMPLATE_EDIT).exists()
    bank.save_spec(replace(spec, solution="answer = a * 3\n"), user=classroom.instructor)
    bank.save_spec(replace(spec, solution="answer = a * 3\n"), user=classroom.instructor)  # same content
    event = only_event(audit.TEMPLATE_EDIT)
    assert (event.actor, event.course) == (classroom.instructor, None)
    assert (event.before["version"], event.after["version"], event.after["template"]) == (1, 2, "edited")


def test_every_event_keeps_the_time_of_the_change(classroom, frozen_clock):
    quiz = make_assessment(classroom.course, blueprint=[])
    clock.freeze(T0 + timedelta(hours=3))
    excuse(quiz, classroom.student, by=classroom.instructor)
    assert only_event(audit.EXCUSAL_ADD).created_at == T0 + timedelta(hours=3)
