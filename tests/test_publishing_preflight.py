"""Publishing checks every template the blueprint can draw (20 seeds) and prepares the class's variants before
students can start: a failing template is listed (slug, seed, cell, line, message, links), the draws go
around it when the rest of the bank fills the blueprint, otherwise publishing stops and says why. The state
is never Published while it is not."""
from __future__ import annotations

import pytest
from django.test import Client

from exams import publishing
from exams.attempts import start_check
from exams.models import Assessment, Membership
from exams.roster import enroll
from exams.tasks import pregenerate_assessment_task
from quizbank import services
from quizbank.models import Variant
from tests.conftest import make_user
from tests.exams_personas import build_bank, classroom, fast_passwords, frozen_clock, make_assessment, spec_for  # noqa: F401

# Fails for seeds 1, 5, 9, ... : inside the pre-flight's 20 seeds, not for every seed.
BROKEN_PARAMETERS = "a = rng.randint(2, 9)\nif seed % 4 == 1:\n    raise ZeroDivisionError('broken for this seed')\n"


def broken_mcq(slug: str = "t-mcq-broken"):
    spec = spec_for(slug, "mcq", "mcq")
    return services.save_spec(spec.__class__(**{**spec.to_dict(), "parameters": BROKEN_PARAMETERS,
                                                "lectures": (1,), "tags": ()}))


def publish(quiz: Assessment, django_capture_on_commit_callbacks) -> list:
    sent: list = []
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        publishing.start_publishing(quiz)
    sent.extend(callbacks)
    return sent


def test_a_failing_template_is_listed_and_left_out_of_the_draws_when_the_rest_fills_the_blueprint(
        classroom, frozen_clock, django_capture_on_commit_callbacks):
    build_bank()
    broken = broken_mcq()
    quiz = make_assessment(classroom.course, publish=False)
    assert len(publish(quiz, django_capture_on_commit_callbacks)) == 1  # the task, sent once committed
    quiz.refresh_from_db()
    assert quiz.state == Assessment.DRAFT and quiz.pregen_state == Assessment.PREGEN_QUEUED
    assert not start_check(quiz, classroom.student).allowed

    pregenerate_assessment_task(quiz.pk)
    quiz.refresh_from_db()
    assert quiz.state == Assessment.PUBLISHED and quiz.pregen_state == Assessment.PREGEN_DONE
    assert list(quiz.excluded_templates) == ["t-mcq-broken"]
    first = quiz.preflight_problems[0]
    assert first == {"slug": "t-mcq-broken", "template_id": broken.pk, "seed": 1, "cell": "parameters", "line": 3,
                     "message": "ZeroDivisionError: broken for this seed", "excluded": True}
    assert "1 failing template left out" in quiz.pregen_message
    assert quiz.pregen_done == quiz.pregen_total == 20  # two students x ten questions, all generated
    for student in (classroom.student, classroom.other_student):
        from exams.attempts import start_attempt

        attempt = start_attempt(quiz, student)
        slugs = set(attempt.slots.values_list("template__slug", flat=True))
        assert "t-mcq-broken" not in slugs and len(slugs) == 10
        for slot in attempt.slots.all():
            assert Variant.objects.filter(version=slot.template_version, seed=slot.seed).exists()


def test_publishing_stops_and_says_why_when_the_bank_cannot_fill_the_blueprint_without_the_failing_template(
        classroom, frozen_clock, django_capture_on_commit_callbacks):
    build_bank(mcq=3)
    broken_mcq()  # the fourth multiple-choice template: needed
    quiz = make_assessment(classroom.course, publish=False)
    publish(quiz, django_capture_on_commit_callbacks)
    pregenerate_assessment_task(quiz.pk)
    quiz.refresh_from_db()
    assert quiz.state == Assessment.DRAFT and quiz.pregen_state == Assessment.PREGEN_FAILED
    assert quiz.pregen_message.startswith("Not published: without the failing templates (t-mcq-broken)")
    assert "needs 4 multiple-choice" in quiz.pregen_message
    assert quiz.preflight_problems[0]["slug"] == "t-mcq-broken" and not quiz.preflight_problems[0]["excluded"]
    assert not start_check(quiz, classroom.student).allowed


def test_a_failing_fixed_question_stops_publishing(classroom, frozen_clock, django_capture_on_commit_callbacks):
    build_bank(mcq=1, short=0, code=0)
    broken_mcq()
    quiz = make_assessment(classroom.course, publish=False, blueprint=[{"templates": ["t-mcq-0", "t-mcq-broken"]}])
    publish(quiz, django_capture_on_commit_callbacks)
    pregenerate_assessment_task(quiz.pk)
    quiz.refresh_from_db()
    assert quiz.state == Assessment.DRAFT and quiz.pregen_state == Assessment.PREGEN_FAILED
    assert "fixed question t-mcq-broken failed the pre-flight check" in quiz.pregen_message


def test_the_state_is_a_draft_while_the_class_is_being_prepared(classroom, frozen_clock, monkeypatch,
                                                               django_capture_on_commit_callbacks):
    build_bank()
    quiz = make_assessment(classroom.course, publish=False)
    publish(quiz, django_capture_on_commit_callbacks)
    seen: list[tuple[str, str]] = []
    real = publishing.pregenerate

    def watching(pairs, progress=None):  # the real pre-generation, with a look at the state as it starts
        seen.append(tuple(Assessment.objects.filter(pk=quiz.pk).values_list("state", "pregen_state").get()))
        return real(pairs, progress=progress)

    monkeypatch.setattr(publishing, "pregenerate", watching)
    pregenerate_assessment_task(quiz.pk)
    assert seen == [(Assessment.DRAFT, Assessment.PREGEN_RUNNING)]
    quiz.refresh_from_db()
    assert quiz.state == Assessment.PUBLISHED and quiz.preflight_problems == [] and quiz.excluded_templates == {}


def test_the_status_json_gives_state_progress_and_each_failing_template_with_links_to_fix_it(
        classroom, frozen_clock, django_capture_on_commit_callbacks):
    build_bank()
    broken = broken_mcq()
    quiz = make_assessment(classroom.course, publish=False)
    client = Client()
    client.force_login(classroom.instructor)
    with django_capture_on_commit_callbacks(execute=False):
        response = client.post(f"/manage/assessments/{quiz.pk}/publish", follow=True)
    assert "Students can start once it says Published" in response.content.decode()
    status = client.get(f"/manage/assessments/{quiz.pk}/progress.json").json()
    assert (status["state"], status["publishing"], status["status"]) == ("draft", True, "queued")

    pregenerate_assessment_task(quiz.pk)
    status = client.get(f"/manage/assessments/{quiz.pk}/progress.json").json()
    assert (status["state"], status["publishing"], status["status"]) == ("published", False, "done")
    assert status["done"] == status["total"] == 20
    problem = status["problems"][0]
    assert problem["slug"] == "t-mcq-broken" and problem["excluded"] is True
    assert problem["fix_url"] == f"/admin/quizbank/template/{broken.pk}/change/"
    assert problem["preview_url"] == f"/admin/quizbank/template/{broken.pk}/preview/"
    page = client.get(f"/manage/assessments/{quiz.pk}/").content.decode()
    assert '<li class="problem">' in page and "left out of the draws" in page


def test_publishing_twice_while_it_runs_queues_it_once(classroom, django_capture_on_commit_callbacks):
    build_bank()
    quiz = make_assessment(classroom.course, publish=False)
    assert len(publish(quiz, django_capture_on_commit_callbacks)) == 1
    assert publish(quiz, django_capture_on_commit_callbacks) == []


def test_the_bulk_queue_takes_pre_generation_and_a_worker_without_queues_consumes_it(settings):
    from config.celery import app

    assert "bulk" in settings.CELERY_TASK_QUEUES  # declared: a worker started without -Q consumes it
    route = app.amqp.router.route({}, "exams.pregenerate_assessment", args=(1,), kwargs={})
    assert route["queue"].name == "bulk"


def test_a_template_that_fails_only_for_the_class_seeds_is_left_out_and_the_class_planned_again(
        classroom, frozen_clock, django_capture_on_commit_callbacks):
    build_bank()
    spec = spec_for("t-mcq-late-failure", "mcq", "mcq")
    services.save_spec(spec.__class__(**{**spec.to_dict(), "lectures": (1,), "tags": (),
                                         "parameters": "a = rng.randint(2, 9)\nassert seed < 20, 'only small seeds'\n"}))
    for number in range(4):  # six students draw 4 of the 5 MCQs: one skips it with p = 1/5, all six ~1e-4
        enroll(classroom.course, make_user(f"extra-{number}"), Membership.STUDENT)
    quiz = make_assessment(classroom.course, publish=False)
    publish(quiz, django_capture_on_commit_callbacks)
    pregenerate_assessment_task(quiz.pk)
    quiz.refresh_from_db()
    assert quiz.state == Assessment.PUBLISHED and list(quiz.excluded_templates) == ["t-mcq-late-failure"]
    assert quiz.preflight_problems[0]["seed"] >= 20 and quiz.preflight_problems[0]["cell"] == "parameters"
    from exams.attempts import start_attempt

    slugs = set(start_attempt(quiz, classroom.student).slots.values_list("template__slug", flat=True))
    assert "t-mcq-late-failure" not in slugs
