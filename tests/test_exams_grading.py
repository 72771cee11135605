"""Grading per kind at submission, code completion through the Celery task, manual grading, regrade.
Every variant is generated and every code answer run by the real engine in the sandboxed runner."""
from __future__ import annotations

from dataclasses import replace

import pytest
from django.core.exceptions import PermissionDenied

from exams import clock
from exams.attempts import attempt_questions, autosave, start_attempt, submit_attempt
from exams import grading
from exams.grading import attempt_review, grade_manually, manual_grading_queue, regrade_template
from exams.models import Attempt, Response
from exams import dispatch
from exams.tasks import grade_code_response
from exams.tasks import regrade_template_task
from quizbank import completion
from quizbank import services as bank
from quizbank.engine import RunnerUnavailable
from quizbank.models import Template
from runner.api import JobResult
from tests.exams_personas import (  # noqa: F401 - fixtures
    T0, build_bank, build_classroom, classroom, correct_text, fast_passwords, frozen_clock, make_assessment,
    runner_calls, spec_for,
)


def take(assessment, student, answer_for) -> Attempt:
    attempt = start_attempt(assessment, student)
    attempt_questions(attempt)  # the quiz page shows the questions (and so caches their variants)
    for slot in attempt.slots.select_related("template").order_by("position"):
        text = answer_for(slot)
        if text is not None:
            autosave(attempt, slot.pk, text, user=student)
    return attempt


def response_of(attempt: Attempt, kind: str) -> Response:
    return Response.objects.filter(attempt=attempt, slot__template__kind=kind).select_related("slot").first()


def test_choice_short_and_output_answers_are_graded_at_submission_without_running_code(classroom, frozen_clock,
                                                                                      runner_calls):
    build_bank(mcq=1, short=1, code=1)  # the one code question is code-output
    quiz = make_assessment(classroom.course, blueprint=[{"qtype": "mcq", "count": 1}, {"qtype": "short", "count": 1},
                                                        {"qtype": "code", "count": 1}])
    right = submit_attempt(take(quiz, classroom.student, correct_text))
    assert right.score == 1.0
    for response in right.responses.exclude(slot__template__kind="completion"):
        assert (response.grading_state, response.score, response.valid) == (Response.GRADED, 1.0, True)
    wrong = submit_attempt(take(quiz, classroom.other_student, lambda slot: "0" if slot.template.kind != "mcq" else
                                str((int(correct_text(slot)) + 1) % 4)))
    for response in wrong.responses.exclude(slot__template__kind="completion"):
        assert response.score == 0.0 and response.valid
    assert "grade" not in runner_calls  # only generation ran in the sandbox; no answer needed the runner


def test_an_unreadable_answer_scores_zero_and_keeps_the_message_as_invalid(classroom, frozen_clock):
    build_bank(mcq=0, short=1, code=0)
    quiz = make_assessment(classroom.course, blueprint=[{"qtype": "short", "count": 1}])
    attempt = submit_attempt(take(quiz, classroom.student, lambda slot: "twelve"))
    response = attempt.responses.get()
    assert (response.score, response.valid, response.grading_state) == (0.0, False, Response.GRADED)
    assert "is not a number" in response.feedback
    assert attempt.score == 0.0


def test_code_completion_waits_for_the_runner_and_the_attempt_score_updates_when_it_arrives(
        classroom, frozen_clock, django_capture_on_commit_callbacks, monkeypatch):
    build_bank(mcq=1, short=0, code=2)  # t-code-0 is output, t-code-1 is completion
    quiz = make_assessment(classroom.course, blueprint=[{"qtype": "mcq", "count": 1}, {"qtype": "code", "count": 2}])
    sent = []
    # No broker in this test: record what would be sent to Celery, then run the task body here, for real.
    monkeypatch.setattr(dispatch, "send", lambda name, response_id: sent.append(response_id))
    with django_capture_on_commit_callbacks(execute=True):
        attempt = submit_attempt(take(quiz, classroom.student, correct_text))
    code = response_of(attempt, "completion")
    assert code.grading_state == Response.QUEUED and sent == [code.pk]
    assert (attempt.score, attempt.pending_count) == (pytest.approx(2 / 3), 1)
    assert grade_code_response(code.pk) is True  # the task function, called directly
    code.refresh_from_db()
    attempt.refresh_from_db()
    assert (code.grading_state, code.score) == (Response.GRADED, 1.0)
    assert code.feedback_data["visible"] == [{"name": "test_double", "passed": True, "message": ""}]
    assert (code.feedback_data["hidden_passed"], code.feedback_data["hidden_total"]) == (1, 1)
    assert (attempt.score, attempt.pending_count) == (1.0, 0)


def test_a_second_grading_call_for_the_same_response_does_not_grade_twice(classroom, frozen_clock, runner_calls):
    build_bank(mcq=0, short=0, code=2)
    quiz = make_assessment(classroom.course, blueprint=[{"templates": ["t-code-1"]}])
    attempt = submit_attempt(take(quiz, classroom.student, lambda slot: "return x"))
    code = response_of(attempt, "completion")
    assert grade_code_response(code.pk) is True
    assert grade_code_response(code.pk) is False
    assert runner_calls.count("grade") == 2  # one job for the visible tests, one for the hidden
    code.refresh_from_db()
    assert (code.grading_state, code.score) == (Response.GRADED, 0.0)  # the starter code does not double


def test_a_response_claimed_by_another_worker_is_left_alone(classroom, frozen_clock, runner_calls):
    build_bank(mcq=0, short=0, code=2)
    quiz = make_assessment(classroom.course, blueprint=[{"templates": ["t-code-1"]}])
    attempt = submit_attempt(take(quiz, classroom.student, correct_text))
    code = response_of(attempt, "completion")
    Response.objects.filter(pk=code.pk).update(grading_state=Response.GRADING, grading_claimed_at=clock.now())
    assert grade_code_response(code.pk) is False and "grade" not in runner_calls
    clock.advance(minutes=6)  # that worker died: its stale claim may be taken over
    assert grade_code_response(code.pk) is True and runner_calls.count("grade") == 2  # visible + hidden jobs


def test_an_unavailable_runner_puts_the_response_back_in_the_queue_for_a_retry(classroom, frozen_clock, monkeypatch):
    build_bank(mcq=0, short=0, code=2)
    quiz = make_assessment(classroom.course, blueprint=[{"templates": ["t-code-1"]}])
    attempt = submit_attempt(take(quiz, classroom.student, correct_text))
    code = response_of(attempt, "completion")

    # Failure injection: a runner that refuses jobs (no bubblewrap, pool down) cannot be produced on demand
    # while the real pool serves the other tests, so the runner answers `refused` as it would then; the real
    # grade_completion and grading code handle that answer.
    monkeypatch.setattr(completion, "execute", lambda job: JobResult(status="refused", message="no sandbox"))
    with pytest.raises(RunnerUnavailable):
        grading.grade_code_response(code.pk)
    code.refresh_from_db()
    assert code.grading_state == Response.QUEUED
    assert grade_code_response.autoretry_for == (RunnerUnavailable,)


def test_manual_answers_wait_in_the_queue_until_a_ta_grades_them(classroom, frozen_clock):
    bank.save_spec(spec_for("explain-dropout", "short", "short", answer={"format": "manual", "rubric": "scaling"}))
    build_bank(mcq=1, short=0, code=0)
    quiz = make_assessment(classroom.course, blueprint=[{"templates": ["explain-dropout"]}, {"qtype": "mcq", "count": 1}])
    attempt = submit_attempt(take(quiz, classroom.student, lambda slot: "It keeps the expected value." if
                                  slot.template.slug == "explain-dropout" else correct_text(slot)))
    manual = Response.objects.get(attempt=attempt, slot__template__slug="explain-dropout")
    assert list(manual_grading_queue(classroom.course)) == [manual]
    assert (attempt.score, attempt.pending_count) == (0.5, 1)
    grade_manually(manual, classroom.ta, 0.5, "Half: mention 1/(1-p).")
    attempt.refresh_from_db()
    manual.refresh_from_db()
    assert (attempt.score, attempt.pending_count) == (0.75, 0)
    assert (manual.graded_by, manual.feedback) == (classroom.ta, "Half: mention 1/(1-p).")
    assert list(manual_grading_queue(classroom.course)) == []


def test_students_and_outsiders_cannot_grade_and_scores_stay_between_zero_and_one(classroom, frozen_clock):
    bank.save_spec(spec_for("explain", "short", "short", answer={"format": "manual", "rubric": "r"}))
    quiz = make_assessment(classroom.course, blueprint=[{"templates": ["explain"]}])
    attempt = submit_attempt(take(quiz, classroom.student, lambda slot: "because"))
    manual = attempt.responses.get()
    for person in (classroom.student, classroom.outsider):
        with pytest.raises(PermissionDenied):
            grade_manually(manual, person, 1.0)
    with pytest.raises(ValueError):
        grade_manually(manual, classroom.instructor, 1.5)
    manual.refresh_from_db()
    assert manual.grading_state == Response.MANUAL


def test_regrading_a_fixed_template_rechecks_the_same_seeds_with_the_new_key(classroom, frozen_clock):
    build_bank(mcq=0, short=1, code=0)
    quiz = make_assessment(classroom.course, blueprint=[{"qtype": "short", "count": 1}])
    attempt = submit_attempt(take(quiz, classroom.student, correct_text))  # right under the old (buggy) key
    response = attempt.responses.select_related("slot").get()
    old_seed, old_version = response.slot.seed, response.slot.template_version
    assert attempt.score == 1.0
    template = Template.objects.get(slug="t-short-0")
    fixed = bank.save_spec(replace(template.to_spec(), solution="answer = a * 3\n"))
    report = regrade_template(fixed, fixed.current_version)
    assert (report.responses, report.changed) == (1, 1)
    response.refresh_from_db()
    attempt.refresh_from_db()
    assert response.slot.seed == old_seed and response.slot.template_version == old_version
    assert response.graded_version == fixed.current_version and response.score == 0.0
    assert attempt.score == 0.0


def test_regrade_keeps_grades_given_by_a_person(classroom, frozen_clock):
    build_bank(mcq=0, short=1, code=0)
    quiz = make_assessment(classroom.course, blueprint=[{"qtype": "short", "count": 1}])
    attempt = submit_attempt(take(quiz, classroom.student, correct_text))
    response = attempt.responses.get()
    grade_manually(response, classroom.instructor, 0.8, "Adjusted by hand.", reason="Partial credit")
    template = Template.objects.get(slug="t-short-0")
    fixed = bank.save_spec(replace(template.to_spec(), solution="answer = a * 3\n"))
    assert regrade_template(fixed).responses == 0
    response.refresh_from_db()
    assert response.score == 0.8


def test_results_and_answers_are_hidden_until_released(classroom, frozen_clock):
    build_bank(mcq=1, short=0, code=0)
    quiz = make_assessment(classroom.course, blueprint=[{"qtype": "mcq", "count": 1}])
    attempt = submit_attempt(take(quiz, classroom.student, correct_text))
    hidden = attempt_review(attempt)
    assert not hidden.results_released and hidden.score is None
    assert hidden.items[0].score is None and hidden.items[0].correct_answer is None
    assert "correct_index" not in hidden.items[0].public
    quiz.results_released_at = T0
    quiz.save()
    attempt.refresh_from_db()
    results_only = attempt_review(attempt)
    assert results_only.score == 1.0 and results_only.items[0].correct_answer is None
    quiz.answers_released_at = T0
    quiz.save()
    attempt.refresh_from_db()
    assert attempt_review(attempt).items[0].correct_answer is not None


def two_courses_with_the_same_short_template(classroom) -> tuple[Attempt, Attempt, Template]:
    """Course A (classroom) and course B each give a quiz drawing t-short-0; one student in each answers it
    right under the current (about to be 'fixed') key."""
    build_bank(mcq=0, short=1, code=0)
    course_b = build_classroom("DL102")
    blueprint = [{"templates": ["t-short-0"]}]
    mine = submit_attempt(take(make_assessment(classroom.course, blueprint=blueprint), classroom.student, correct_text))
    theirs = submit_attempt(take(make_assessment(course_b.course, blueprint=blueprint), course_b.student, correct_text))
    template = Template.objects.get(slug="t-short-0")
    fixed = bank.save_spec(replace(template.to_spec(), solution="answer = a * 3\n"))
    return mine, theirs, fixed


def test_an_instructors_regrade_in_one_course_leaves_another_courses_responses_to_the_same_template_unchanged(
        classroom, frozen_clock):
    mine, theirs, fixed = two_courses_with_the_same_short_template(classroom)
    before = Response.objects.get(attempt=theirs)
    report = regrade_template(fixed, fixed.current_version, course=classroom.course, by=classroom.instructor)
    assert (report.responses, report.changed) == (1, 1)
    mine.refresh_from_db()
    theirs.refresh_from_db()
    after = Response.objects.get(attempt=theirs)
    assert mine.score == 0.0
    assert theirs.score == 1.0
    assert (after.score, after.graded_version_id, after.graded_at) == (1.0, before.graded_version_id, before.graded_at)


def test_the_regrade_task_with_a_course_id_regrades_only_that_course(classroom, frozen_clock):
    mine, theirs, fixed = two_courses_with_the_same_short_template(classroom)
    assert regrade_template_task(fixed.pk, fixed.current_version.pk, theirs.assessment.course_id) == 1
    mine.refresh_from_db()
    theirs.refresh_from_db()
    assert (mine.score, theirs.score) == (1.0, 0.0)


def test_submitting_generates_missing_variants_before_the_write_transaction_opens(classroom, frozen_clock,
                                                                                 monkeypatch):
    from django.db import connection
    from quizbank import engine

    build_bank(mcq=1, short=1, code=0)
    quiz = make_assessment(classroom.course, blueprint=[{"qtype": "mcq", "count": 1}, {"qtype": "short", "count": 1}])
    attempt = start_attempt(quiz, classroom.student)  # the quiz page was never shown: no variant is cached yet
    outside = len(connection.atomic_blocks)  # the test's own transaction(s); submit's would be one more
    depths: list[int] = []
    real_execute = engine.execute

    def spy(job):
        depths.append(len(connection.atomic_blocks))
        return real_execute(job)

    monkeypatch.setattr(engine, "execute", spy)
    attempt = submit_attempt(attempt, user=classroom.student)
    assert len(depths) == 2 and set(depths) == {outside}
    assert attempt.pending_count == 0 and attempt.score == 0.0  # graded (both blank) from the variants fetched


def test_regrading_with_a_new_version_generates_its_variants_outside_the_grading_transactions(classroom,
                                                                                               frozen_clock,
                                                                                               monkeypatch):
    from django.db import connection
    from quizbank import engine

    build_bank(mcq=0, short=1, code=0)
    quiz = make_assessment(classroom.course, blueprint=[{"qtype": "short", "count": 1}])
    submit_attempt(take(quiz, classroom.student, correct_text))
    template = Template.objects.get(slug="t-short-0")
    fixed = bank.save_spec(replace(template.to_spec(), solution="answer = a * 3\n"))
    outside = len(connection.atomic_blocks)
    depths: list[int] = []
    real_execute = engine.execute
    monkeypatch.setattr(engine, "execute", lambda job: depths.append(len(connection.atomic_blocks)) or real_execute(job))
    assert regrade_template(fixed, course=classroom.course).changed == 1
    assert depths == [outside]
