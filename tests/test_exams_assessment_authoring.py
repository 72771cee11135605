"""Building assessments (exams.authoring): blueprints from the editor's rows, pool counts and their warnings,
create / edit / duplicate / delete with the audit log, the blueprint lock once students start, and releases."""
from __future__ import annotations

from datetime import timedelta

import pytest

from exams import audit, authoring
from exams.models import Assessment, Attempt, AuditEvent
from quizbank.models import Template
from tests.exams_personas import T0, build_bank, classroom, fast_passwords, frozen_clock, make_assessment  # noqa: F401

pytestmark = pytest.mark.django_db


def values(**extra):
    base = {"title": "Quiz 1", "kind": Assessment.QUIZ, "category": None, "time_limit_minutes": 30,
            "attempts_allowed": 1, "position": 1, "opens_at": T0, "due_at": T0 + timedelta(hours=13),
            "closes_at": T0 + timedelta(days=1), "instructions": "Good *luck*",
            "late_policy": {"tiers": [{"up_to_minutes": 30, "penalty_percent": 10}], "after_last_tier_percent": 100}}
    base.update(extra)
    return base


def start(assessment, student):
    return Attempt.objects.create(assessment=assessment, student=student, seed=1, started_at=T0)


def test_the_presets_are_the_syllabus_blueprints():
    quiz = authoring.preset_blueprint("quiz", [1, 3])
    exam = authoring.preset_blueprint("exam")
    assert [(d["qtype"], d["count"]) for d in quiz] == [("mcq", 4), ("short", 3), ("code", 3)]
    assert all(d["lectures"] == [1, 3] for d in quiz)
    assert [(d["qtype"], d["count"]) for d in exam] == [("mcq", 8), ("short", 6), ("code", 6)]
    assert authoring.PRESETS["quiz"]["minutes"] == 30 and authoring.PRESETS["exam"]["minutes"] == 60


def test_editor_rows_become_a_blueprint_and_back():
    build_bank(mcq=1, short=0, code=0)
    rows = [{"qtype": "mcq", "count": "4", "lectures": "1-3", "tags": ""},
            {"qtype": "short", "count": "2", "lectures": "1, 5, 7", "tags": "chain-rule, autograd"},
            {"qtype": "code", "count": "1", "lectures": "4", "tags": ""},
            {"qtype": "", "count": "", "lectures": "", "tags": ""}]
    blueprint = authoring.build_blueprint(rows, ["t-mcq-0"])
    assert blueprint == [{"qtype": "mcq", "count": 4, "lectures": [1, 3]},
                         {"qtype": "short", "count": 2, "lectures": {"any": [1, 5, 7]}, "tags": ["chain-rule", "autograd"]},
                         {"qtype": "code", "count": 1, "lectures": [4, 4]},
                         {"templates": ["t-mcq-0"]}]
    back, picked = authoring.editor_rows(blueprint, blank=0)
    assert [r["lectures"] for r in back] == ["1-3", "1, 5, 7", "4"] and picked == ["t-mcq-0"]


def test_unreadable_rows_and_unknown_templates_are_refused_with_every_problem():
    with pytest.raises(authoring.AuthoringError) as refused:
        authoring.build_blueprint([{"qtype": "essay", "count": "2"}, {"qtype": "mcq", "count": "x"},
                                   {"qtype": "mcq", "count": "1", "lectures": "one"}], ["no-such-template"])
    text = " ".join(refused.value.problems)
    assert "Draw 1" in text and "Draw 2" in text and "Draw 3" in text and "no-such-template" in text


@pytest.mark.parametrize("count, lectures", [("²", ""), ("1", "²"), ("1", "1-²"), ("1", "9" * 5000), ("٣", "")])
def test_digits_that_are_not_ascii_are_a_refused_row_never_a_crash(count, lectures):
    with pytest.raises(authoring.AuthoringError):
        authoring.build_blueprint([{"qtype": "mcq", "count": count, "lectures": lectures}], [])


def test_pools_count_matching_templates_and_warn_when_small_or_short():
    build_bank(mcq=4, short=3, code=6, lectures=(2,))
    report = authoring.blueprint_report(authoring.preset_blueprint("quiz", [1, 3]) + [{"qtype": "mcq", "count": 5}])
    assert [(d.pool, d.count, d.status) for d in report.draws] == [(4, 4, "thin"), (3, 3, "thin"), (6, 3, "ok"),
                                                                  (4, 5, "short")]
    assert "aim for 8+" in report.draws[0].message and "5 needed, only 4" in report.draws[3].message
    assert report.question_count == 15 and not report.ok and report.problems  # assembly agrees: no 5th MCQ


def test_pools_skip_inactive_templates_draft_templates_and_hand_picked_ones():
    templates = build_bank(mcq=5, short=0, code=0)
    templates[0].is_active = False
    templates[0].save()
    templates[1].status = Template.DRAFT  # never drawn into a quiz
    templates[1].save()
    report = authoring.blueprint_report([{"qtype": "mcq", "count": 1}, {"templates": ["t-mcq-4"]}])
    assert report.draws[0].slugs == ["t-mcq-2", "t-mcq-3"]
    assert (report.draws[1].pool, report.draws[1].status) == (1, "ok")


def test_creating_an_assessment_is_recorded_in_the_audit_log(classroom):
    build_bank(mcq=1, short=0, code=0)
    created = authoring.create_assessment(classroom.course, values(), [{"templates": ["t-mcq-0"]}],
                                          by=classroom.instructor)
    assert created.state == Assessment.DRAFT and created.blueprint == [{"templates": ["t-mcq-0"]}]
    event = AuditEvent.objects.get(action=audit.ASSESSMENT_EDIT)
    assert event.actor == classroom.instructor and event.after["operation"] == "create"
    assert event.after["time_limit_minutes"] == 30 and event.target_id == created.pk


def test_impossible_dates_and_a_title_in_use_are_refused(classroom):
    make_assessment(classroom.course, "Quiz 1")
    with pytest.raises(authoring.AuthoringError) as refused:
        authoring.create_assessment(classroom.course, values(closes_at=T0 - timedelta(hours=1)), [],
                                    by=classroom.instructor)
    assert any("already has" in p for p in refused.value.problems)
    assert any("closing time must be after" in p for p in refused.value.problems)
    assert not AuditEvent.objects.exists()


def test_an_edit_records_only_what_changed(classroom):
    quiz = make_assessment(classroom.course, "Quiz 1", publish=False)
    authoring.update_assessment(quiz, values(time_limit_minutes=45, opens_at=quiz.opens_at,
                                             closes_at=quiz.closes_at, due_at=None, position=quiz.position,
                                             instructions="", late_policy=quiz.late_policy), None,
                                by=classroom.instructor)
    event = AuditEvent.objects.get(action=audit.ASSESSMENT_EDIT)
    assert event.before == {"time_limit_minutes": 30} and event.after == {"operation": "edit", "time_limit_minutes": 45}


def test_a_started_quiz_keeps_its_blueprint_but_its_dates_can_change(classroom):
    quiz = make_assessment(classroom.course, "Quiz 1")
    start(quiz, classroom.student)
    assert authoring.blueprint_locked(quiz)
    with pytest.raises(authoring.AuthoringError, match="blueprint is locked"):
        authoring.update_assessment(quiz, values(), [{"qtype": "mcq", "count": 1}], by=classroom.instructor)
    later = T0 + timedelta(days=2)
    saved = authoring.update_assessment(quiz, values(closes_at=later), None, by=classroom.instructor)
    assert saved.closes_at == later and saved.blueprint == quiz.blueprint


def test_a_started_practice_set_may_change_its_blueprint_which_is_checked_again_before_new_starts(
        classroom, django_capture_on_commit_callbacks):
    build_bank(mcq=1, short=0, code=0)
    practice = make_assessment(classroom.course, "Practice", kind=Assessment.PRACTICE)
    start(practice, classroom.student)
    saved = authoring.update_assessment(practice, values(title="Practice", kind=Assessment.PRACTICE),
                                        [{"qtype": "mcq", "count": 1}], by=classroom.instructor)
    assert saved.blueprint == [{"qtype": "mcq", "count": 1}]
    assert saved.state == Assessment.DRAFT and saved.pregen_state == Assessment.PREGEN_QUEUED


def test_a_published_blueprint_the_bank_cannot_fill_is_refused_and_nothing_changes(classroom):
    practice = make_assessment(classroom.course, "Practice", kind=Assessment.PRACTICE)
    with pytest.raises(authoring.AuthoringError, match="cannot be drawn"):
        authoring.update_assessment(practice, values(title="Practice", kind=Assessment.PRACTICE),
                                    [{"qtype": "mcq", "count": 3}], by=classroom.instructor)
    practice.refresh_from_db()
    assert practice.state == Assessment.PUBLISHED and practice.blueprint != [{"qtype": "mcq", "count": 3}]


def test_a_duplicate_is_an_unreleased_draft_with_its_own_seeds(classroom):
    quiz = make_assessment(classroom.course, "Quiz 1", results_released_at=T0)
    first = authoring.duplicate_assessment(quiz, by=classroom.instructor)
    second = authoring.duplicate_assessment(quiz, by=classroom.instructor)
    assert (first.title, second.title) == ("Quiz 1 (copy)", "Quiz 1 (copy) 2")
    assert first.state == Assessment.DRAFT and first.results_released_at is None
    assert first.blueprint == quiz.blueprint and first.seed_salt != quiz.seed_salt
    assert first.time_limit_minutes == quiz.time_limit_minutes and first.late_policy == quiz.late_policy
    assert AuditEvent.objects.filter(action=audit.ASSESSMENT_EDIT, after__operation="duplicate").count() == 2


def test_an_assessment_with_attempts_cannot_be_deleted_and_one_without_can(classroom):
    started_quiz = make_assessment(classroom.course, "Quiz 1")
    start(started_quiz, classroom.student)
    with pytest.raises(authoring.AuthoringError, match="students' work"):
        authoring.delete_assessment(started_quiz, by=classroom.instructor)
    empty = make_assessment(classroom.course, "Quiz 2", publish=False)
    authoring.delete_assessment(empty, by=classroom.instructor)
    assert not Assessment.objects.filter(pk=empty.pk).exists()
    event = AuditEvent.objects.get(action=audit.ASSESSMENT_EDIT)
    assert event.before["operation"] == "delete" and event.target_label.endswith("Quiz 2")


def test_answers_released_imply_results_released_by_the_same_time(classroom, frozen_clock):
    quiz = make_assessment(classroom.course, "Quiz 1")
    saved = authoring.release_assessment(quiz, results="keep", answers="now", by=classroom.instructor)
    assert saved.results_released_at == T0 and saved.answers_released_at == T0
    later = T0 + timedelta(days=1)
    saved = authoring.release_assessment(saved, results="at", results_at=later + timedelta(hours=1),
                                         answers="at", answers_at=later, by=classroom.instructor)
    assert saved.results_released_at == later  # results are never after answers
    assert AuditEvent.objects.filter(action=audit.RELEASE).count() == 2


def test_hiding_the_results_hides_the_answers(classroom, frozen_clock):
    quiz = make_assessment(classroom.course, "Quiz 1", results_released_at=T0, answers_released_at=T0)
    saved = authoring.release_assessment(quiz, results="hide", answers="keep", by=classroom.instructor)
    assert saved.results_released_at is None and saved.answers_released_at is None
    state = authoring.release_state(saved)
    assert not state.results_released and not state.answers_released


def test_keep_keeps_what_another_instructor_released_since_the_form_was_loaded(classroom, frozen_clock):
    quiz = make_assessment(classroom.course, "Quiz 1")
    form_copy = Assessment.objects.get(pk=quiz.pk)  # this instructor's page, loaded before the other's release
    authoring.release_assessment(quiz, results="now", answers="keep", by=classroom.instructor)
    saved = authoring.release_assessment(form_copy, results="keep", answers="at", answers_at=T0 + timedelta(days=2),
                                         by=classroom.instructor)
    assert saved.results_released_at == T0 and saved.answers_released_at == T0 + timedelta(days=2)
    assert Assessment.objects.get(pk=quiz.pk).results_released_at == T0


def test_a_release_at_a_future_time_is_scheduled_not_released(classroom, frozen_clock):
    quiz = make_assessment(classroom.course, "Quiz 1")
    saved = authoring.release_assessment(quiz, results="at", results_at=T0 + timedelta(hours=2), answers="keep",
                                         by=classroom.instructor)
    assert authoring.release_state(saved).results_released is False
    assert authoring.release_state(saved, now=T0 + timedelta(hours=3)).results_released is True
    with pytest.raises(authoring.AuthoringError):
        authoring.release_assessment(quiz, results="at", results_at=None, answers="keep", by=classroom.instructor)
