"""In Chromium: an instructor publishes a quiz whose pool holds a template that fails for some seeds, and sees
the progress bar complete, the failing template listed as a styled row with its reason and links, and the
final state Published (the draws go around it)."""
from __future__ import annotations

from dataclasses import replace

import pytest

from exams.models import Assessment
from quizbank.services import preview, save_spec
from tests.test_browser_quiz import CHROMIUM, _db, browser, context, log_in  # noqa: F401 - fixtures
from tests.web_fixtures import *  # noqa: F403

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian chromium is not installed at /usr/bin/chromium"),
]

BROKEN_SHORT = replace(DOUBLE_SHORT, slug="web-broken", title="Broken for some seeds",  # noqa: F405
                       parameters="a = rng.randint(2, 9)\nif seed % 5 == 2:\n    raise KeyError('missing table')\n")


def test_publishing_with_a_broken_template_in_the_pool_lists_it_and_ends_published(context, course, instructor,  # noqa: F811
                                                                                    student, bank):
    from config.celery import app

    broken = save_spec(BROKEN_SHORT)
    preview(BROKEN_SHORT, [0])  # starts this process's sandbox pool (the live server's too) before the click
    draft = make_quiz(course, slugs=[], published=False,  # noqa: F405
                      blueprint=[{"qtype": "short", "count": 2, "lectures": [1, 1]}, {"qtype": "mcq", "count": 1}])
    page = context.new_page()
    log_in(page, "irene")
    page.goto(f"/manage/assessments/{draft.pk}/")
    app.conf.task_always_eager = True  # the publication runs in the server thread, as a worker would run it
    try:
        page.click("#publish-button", no_wait_after=True)  # the publication runs inside this request
        page.wait_for_selector("[data-progress-url][data-status=done]", timeout=120_000)
    finally:
        app.conf.task_always_eager = False

    page.wait_for_function("() => document.querySelector('[data-publication-state]').textContent === 'Published'")
    bar = page.locator("progress")
    assert bar.get_attribute("value") == bar.get_attribute("max") != "0"
    rows = page.locator("[data-problem-list] li.problem")
    assert rows.count() >= 1
    first = rows.first
    assert first.locator(".problem-slug").inner_text() == "web-broken"
    assert first.locator(".badge").inner_text() == "left out of the draws"
    assert "parameters, line 3" in first.locator(".problem-where").inner_text()
    assert first.locator(".problem-message").inner_text() == "KeyError: 'missing table'"
    assert first.locator("a", has_text="Fix the template").get_attribute("href") == \
        f"/admin/quizbank/template/{broken.pk}/change/"
    # A styled list (one bordered row per failure), not text run together.
    style = first.evaluate("el => { const s = getComputedStyle(el); return [s.display, s.borderLeftStyle]; }")
    assert style == ["grid", "solid"]
    assert page.locator("[data-problems]").is_visible()
    draft.refresh_from_db()
    assert draft.state == Assessment.PUBLISHED and "web-broken" in draft.excluded_templates
