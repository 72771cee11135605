"""On the production profile a submit never runs template code in the web process: an answer whose variant
was never generated (a late enrolment whose quiz page was still waiting, a worker that was down) waits with a
reason staff can read, a grading worker makes the variant and grades it once, and the results page shows that
question as being prepared meanwhile. The embedded profile still grades it at once, where it runs."""
from __future__ import annotations

from datetime import timedelta

from django.core.cache import cache
from django.test import Client

from exams import attempts, clock, dispatch
from exams.grading import ERROR_FEEDBACK, NOT_PREPARED, WAITING_FEEDBACK, grade_unprepared_responses
from exams.models import Assessment, Attempt, Response
from exams.questions import PREPARING_REVIEW_TEXT, UNAVAILABLE_TEXT
from exams.tasks import redispatch_stalled_grading
from quizbank.models import Variant
from quizbank.services import variant_for
from tests.exams_personas import (  # noqa: F401 - fixtures
    build_bank, classroom, correct_text, fast_passwords, make_assessment, production_profile, runner_calls, sent,
)


def _quiz(classroom) -> Assessment:
    now = clock.now()
    build_bank(mcq=1, short=1, code=0)
    return make_assessment(classroom.course, "Late enrolment", blueprint=[{"templates": ["t-mcq-0", "t-short-0"]}],
                           opens_at=now - timedelta(hours=1), closes_at=now + timedelta(days=1))


def _answered_but_never_prepared(classroom, quiz: Assessment) -> Attempt:
    """Right answers saved for variants that are then gone from the cache (the test needs their keys to know
    what is right; a late enrolment's variants were never made at all)."""
    attempt = attempts.start_attempt(quiz, classroom.student)
    for slot in attempt.slots.select_related("template_version"):
        variant_for(slot.template_version, slot.seed)
        attempts.autosave(attempt, slot.pk, correct_text(slot), user=classroom.student)
    Variant.objects.all().delete()
    cache.clear()
    return Attempt.objects.get(pk=attempt.pk)


def test_a_submit_runs_no_template_code_and_leaves_the_answers_waiting_with_the_reason_for_staff(
        classroom, production_profile, sent, runner_calls, django_capture_on_commit_callbacks):
    attempt = _answered_but_never_prepared(classroom, _quiz(classroom))
    runner_calls.clear()
    with django_capture_on_commit_callbacks(execute=True):
        submitted = attempts.submit_attempt(attempt, user=classroom.student)
    assert runner_calls == []
    assert submitted.state == Attempt.SUBMITTED and submitted.pending_count == 2
    for response in submitted.responses.all():
        assert response.grading_state == Response.ERROR and NOT_PREPARED in response.grading_error
        assert response.feedback == WAITING_FEEDBACK  # what the student reads: not a failure
    assert sent == [(dispatch.GRADE_UNPREPARED_RESPONSES, (attempt.pk,))]


def test_the_worker_makes_the_variants_and_grades_each_waiting_answer_once(classroom, production_profile, sent):
    attempt = _answered_but_never_prepared(classroom, _quiz(classroom))
    attempts.submit_attempt(attempt, user=classroom.student)
    assert grade_unprepared_responses(attempt.pk) == 2
    graded = Attempt.objects.get(pk=attempt.pk)
    assert (graded.score, graded.pending_count) == (1.0, 0)
    assert {(r.grading_state, r.score, r.grading_error) for r in graded.responses.all()} == {(Response.GRADED, 1.0, "")}
    assert grade_unprepared_responses(attempt.pk) == 0  # a duplicate message changes nothing


def test_two_workers_with_the_same_message_grade_each_answer_once(classroom, production_profile, sent, monkeypatch):
    from exams import assembly

    attempt = _answered_but_never_prepared(classroom, _quiz(classroom))
    attempts.submit_attempt(attempt, user=classroom.student)
    real_prepare, other_started, graded_by_the_other = assembly.prepare_attempt_variants, [], []

    def the_other_worker_finishes_meanwhile(attempt_id):  # both passed the first check; the other is quicker
        made = real_prepare(attempt_id)
        if not other_started:
            other_started.append(True)
            graded_by_the_other.append(grade_unprepared_responses(attempt_id))
        return made

    monkeypatch.setattr(assembly, "prepare_attempt_variants", the_other_worker_finishes_meanwhile)
    assert grade_unprepared_responses(attempt.pk) == 0 and graded_by_the_other == [2]
    assert Attempt.objects.get(pk=attempt.pk).pending_count == 0


def test_the_results_page_shows_the_waiting_question_as_being_prepared_and_runs_no_template_code(
        classroom, production_profile, sent, runner_calls):
    quiz = _quiz(classroom)
    attempt = _answered_but_never_prepared(classroom, quiz)
    attempts.submit_attempt(attempt, user=classroom.student)
    Assessment.objects.filter(pk=quiz.pk).update(results_released_at=clock.now() - timedelta(minutes=1))
    runner_calls.clear()
    client = Client()
    client.force_login(classroom.student)
    page = client.get(f"/attempts/{attempt.pk}/")
    html = page.content.decode()
    assert page.status_code == 200 and html.count(PREPARING_REVIEW_TEXT) == 2
    assert html.count(WAITING_FEEDBACK) == 2 and ERROR_FEEDBACK not in html
    assert 'data-reload-after-ms="5000"' in html  # and it looks again by itself
    assert runner_calls == []


def test_a_question_that_could_not_be_made_is_shown_unavailable_and_the_page_stops_waiting(
        classroom, production_profile, sent):
    quiz = _quiz(classroom)
    attempt = _answered_but_never_prepared(classroom, quiz)
    attempts.submit_attempt(attempt, user=classroom.student)
    # The worker ran and the template failed for this seed: a real grading error, no variant stored.
    Response.objects.filter(attempt=attempt).update(grading_error="TemplateError: [generate] line 3: boom",
                                                    feedback=ERROR_FEEDBACK)
    Assessment.objects.filter(pk=quiz.pk).update(results_released_at=clock.now() - timedelta(minutes=1))
    client = Client()
    client.force_login(classroom.student)
    html = client.get(f"/attempts/{attempt.pk}/").content.decode()
    assert html.count(UNAVAILABLE_TEXT) == 2 and PREPARING_REVIEW_TEXT not in html
    assert "data-reload-after-ms" not in html


def test_a_broker_down_at_submit_loses_nothing_and_the_sweep_sends_the_work_again(
        classroom, production_profile, monkeypatch, django_capture_on_commit_callbacks):
    attempt = _answered_but_never_prepared(classroom, _quiz(classroom))

    def broker_down(name, *args, **options):
        raise ConnectionError("Redis is restarting")

    monkeypatch.setattr(dispatch, "send", broker_down)
    with django_capture_on_commit_callbacks(execute=True):
        assert attempts.submit_attempt(attempt, user=classroom.student).state == Attempt.SUBMITTED
    later: list[tuple[str, tuple]] = []
    monkeypatch.setattr(dispatch, "send", lambda name, *args, **options: later.append((name, args)))
    Response.objects.filter(attempt=attempt).update(grading_claimed_at=clock.now() - timedelta(hours=1))
    redispatch_stalled_grading()
    assert later == [(dispatch.GRADE_UNPREPARED_RESPONSES, (attempt.pk,))]
    redispatch_stalled_grading()  # the next minute's sweep: not again until a stale time has passed
    assert len(later) == 1


def test_the_embedded_profile_still_grades_at_once_in_the_submitting_process(classroom, settings):
    settings.QUIZ_PAGE_GENERATES_VARIANTS = True
    attempt = _answered_but_never_prepared(classroom, _quiz(classroom))
    submitted = attempts.submit_attempt(attempt, user=classroom.student)
    assert (submitted.score, submitted.pending_count) == (1.0, 0)
