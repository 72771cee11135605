"""In Chromium, on the production profile: a student whose questions were not pre-generated sees them as being
prepared, and when the worker has made them the page reloads by itself and they are answered and saved."""
from __future__ import annotations

import pytest
from django.core.cache import cache

from exams import dispatch
from exams.assembly import prepare_attempt_variants
from exams.models import Attempt, Response
from quizbank.models import Variant
from tests.test_browser_quiz import CHROMIUM, _db, browser, context, log_in, screenshot  # noqa: F401  (fixtures)
from tests.web_fixtures import *  # noqa: F403

pytestmark = [pytest.mark.browser, pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian chromium is not installed")]


def test_a_question_being_prepared_appears_when_the_worker_has_made_it(context, course, student, bank, settings,
                                                                       monkeypatch):
    settings.QUIZ_PAGE_GENERATES_VARIANTS = False
    cache.clear()
    requested: list[int] = []
    monkeypatch.setattr(dispatch, "send", lambda name, *args, **options: requested.append(args[0]))
    quiz = make_quiz(course, slugs=["web-double", "web-pick"])  # noqa: F405
    page = context.new_page()
    log_in(page, "sam")
    page.goto(f"/assessments/{quiz.pk}/")
    page.click("text=Start Quiz 1")
    page.wait_for_selector("#quiz")
    attempt = Attempt.objects.get(student=student)
    double = attempt.slots.get(template__slug="web-double")
    pick = attempt.slots.get(template__slug="web-pick")
    assert page.locator("[data-preparing]").count() == 2 and requested == [attempt.pk]
    screenshot(page, "quiz-question-being-prepared")
    assert not Variant.objects.filter(version=pick.template_version, seed=pick.seed).exists()

    prepare_attempt_variants(attempt.pk)  # the grading worker's job
    page.wait_for_selector(f"#answer-{double.pk}", timeout=20_000)  # the page reloaded by itself
    assert page.locator("[data-preparing]").count() == 0
    field = page.locator(f"#answer-{double.pk}")
    field.fill("14")
    page.locator(f"section[data-slot='{pick.pk}'] input[type=radio]").nth(0).check()
    page.wait_for_function("() => document.getElementById('global-save-status').textContent === 'All answers saved'")
    assert Response.objects.get(slot=double).text == "14"
