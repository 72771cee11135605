"""In headless Chromium: the item analysis of an assessment and of a template, for a simulated class of 60
(known abilities; one question made to discriminate negatively), at 1280 px and on a 390 px phone.

Set DLQUIZ_SCREENSHOTS=1 to (re)write docs/screenshots/analysis-assessment*.png and analysis-template*.png.
"""
from __future__ import annotations

from datetime import timedelta

import pytest

from exams import clock
from quizbank.models import Template
from tests.analytics_class import Item, simulate
from tests.test_browser_quiz import _db, browser, context, log_in, screenshot  # noqa: F401 - fixtures
from tests.web_fixtures import *  # noqa: F403

pytestmark = [pytest.mark.browser, pytest.mark.sandbox]

ITEMS = [Item("conv-padding", "mcq", -1.2), Item("double-typed", "short", -0.4), Item("pick-output", "mcq", 0.3),
         Item("typed-harder", "short", 0.9), Item("trick-question", "mcq", 0.0, discrimination=-2.0)]


def fits_the_width(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")


def test_the_analysis_pages_show_figures_flags_and_numbers_at_desktop_and_phone_widths(context, course, instructor):
    now = clock.now()
    simulated = simulate(course, ITEMS, 60, seed=7, opens_at=now - timedelta(hours=2), closes_at=now + timedelta(days=1),
                         results_released_at=now)
    page = context.new_page()
    log_in(page, "irene")
    for width, suffix in ((1280, ""), (390, "-phone")):
        page.set_viewport_size({"width": width, "height": 900})
        page.goto(f"/manage/assessments/{simulated.quiz.pk}/analysis/")
        assert page.locator("svg.plot").count() >= 4  # histogram, scatter, one bar chart per question
        assert page.locator("#flagged-questions").is_visible()
        assert "trick-question" in page.locator("#flagged-questions").inner_text()
        assert "negative discrimination" in page.locator("#flagged-questions").inner_text()
        assert page.locator("#item-table tbody tr").count() == len(ITEMS)
        assert fits_the_width(page), f"the assessment page scrolls sideways at {width} px"
        screenshot(page, f"analysis-assessment{suffix}")
        template = Template.objects.get(slug="trick-question")
        page.goto(f"/manage/templates/{template.pk}/analysis/")
        assert page.locator("svg.plot").count() >= 2
        assert "negative discrimination" in page.locator("#flagged-questions").inner_text()
        assert fits_the_width(page), f"the template page scrolls sideways at {width} px"
        screenshot(page, f"analysis-template{suffix}")
