"""On the production profile a web process never runs template code: a quiz page whose variant was not
pre-generated (a late enrolment, a later attempt) shows the question as being prepared, asks a grading worker
for it once (again only if the request may have been lost), and the page reloads when the worker has made it.
A template that fails for that seed is shown as unavailable instead of being waited for."""
from __future__ import annotations

from datetime import timedelta

from django.core.cache import cache
from django.test import Client

from exams import attempts, clock, dispatch
from exams.assembly import prepare_attempt_variants
from exams.models import Attempt
from quizbank.models import Variant
from quizbank.services import save_spec
from tests.exams_personas import (  # noqa: F401 - fixtures
    build_bank, classroom, fast_passwords, make_assessment, production_profile, runner_calls, sent,
)
from tests.specs import SOFTMAX_SHORT, edited


def _started(classroom, count: int = 3) -> tuple[Client, Attempt]:
    now = clock.now()
    quiz = make_assessment(classroom.course, "Not pre-generated",
                           blueprint=[{"qtype": "short", "count": count, "lectures": [1, 1]}],
                           opens_at=now - timedelta(hours=1), closes_at=now + timedelta(days=1))
    client = Client()
    client.force_login(classroom.student)
    assert client.post(f"/assessments/{quiz.pk}/start").status_code == 302
    return client, Attempt.objects.get(assessment=quiz, student=classroom.student)


def test_the_quiz_page_shows_questions_being_prepared_and_runs_no_template_code(
        classroom, production_profile, sent, runner_calls):
    build_bank(mcq=0, short=3, code=0)
    client, attempt = _started(classroom)
    page = client.get(f"/attempts/{attempt.pk}/").content.decode()
    assert page.count("data-preparing") == 3 and "being prepared" in page
    assert runner_calls == []
    assert sent == [(dispatch.PREPARE_ATTEMPT_VARIANTS, (attempt.pk,))]


def test_polling_pages_ask_the_worker_again_only_after_a_while(classroom, production_profile, sent):
    build_bank(mcq=0, short=2, code=0)
    client, attempt = _started(classroom, count=2)
    client.get(f"/attempts/{attempt.pk}/")
    for _ in range(3):
        state = client.get(f"/attempts/{attempt.pk}/state?waiting=1").json()
        assert state["questions_ready"] is False
    assert len(sent) == 1
    cache.delete(f"attempt-variants-requested:{attempt.pk}")  # REQUEST_AGAIN_SECONDS later: a lost message
    client.get(f"/attempts/{attempt.pk}/state?waiting=1")
    assert len(sent) == 2


def test_once_the_worker_made_the_variants_the_page_is_ready_and_shows_them(classroom, production_profile, sent):
    build_bank(mcq=0, short=3, code=0)
    client, attempt = _started(classroom)
    client.get(f"/attempts/{attempt.pk}/")
    assert prepare_attempt_variants(attempt.pk) == 3  # what the grading worker runs
    assert prepare_attempt_variants(attempt.pk) == 0  # a second delivery finds nothing to do
    assert client.get(f"/attempts/{attempt.pk}/state?waiting=1").json()["questions_ready"] is True
    page = client.get(f"/attempts/{attempt.pk}/").content.decode()
    assert "data-preparing" not in page and page.count(' data-slot="') == 3
    assert Variant.objects.filter(version__in=attempt.slots.values("template_version")).count() == 3


def test_a_seed_the_template_fails_on_is_shown_unavailable_not_waited_for(classroom, production_profile, sent):
    broken = edited(SOFTMAX_SHORT, slug="broken-short", lectures=(1,),
                    solution="answer = 1 / 0\n")
    save_spec(broken, ready=True)
    client, attempt = _started(classroom, count=1)
    prepare_attempt_variants(attempt.pk)
    assert client.get(f"/attempts/{attempt.pk}/state?waiting=1").json()["questions_ready"] is True
    page = client.get(f"/attempts/{attempt.pk}/").content.decode()
    assert "could not be generated" in page and "data-preparing" not in page


def test_the_embedded_profile_still_generates_a_missing_variant_in_the_page(classroom, settings, sent, runner_calls):
    settings.QUIZ_PAGE_GENERATES_VARIANTS = True
    build_bank(mcq=0, short=2, code=0)
    client, attempt = _started(classroom, count=2)
    page = client.get(f"/attempts/{attempt.pk}/").content.decode()
    assert "data-preparing" not in page and runner_calls == ["generate"] * 2 and sent == []
    assert attempts.questions_ready(attempt)
