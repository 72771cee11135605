"""In headless Chromium, the grading-by-question list in pages (3 a page here, 50 by default): j past the last
answer of a page opens the next page at its first answer, k before the first goes back to the previous page's
last answer, and saving the last answer of a page with s comes back at the next answer, on whichever page now
holds it."""
from __future__ import annotations

import re

import pytest

from exams.models import Response
from quizbank.services import save_spec
from tests.answer_group_support import submit_class
from tests.test_browser_answer_groups import shoot_both_widths
from tests.rubric_support import EXPLAIN_RUBRIC
from tests.test_browser_quiz import _db, browser, context, log_in  # noqa: F401 - fixtures
from tests.web_fixtures import *  # noqa: F403

pytestmark = [pytest.mark.browser]


def current_is(page, response) -> None:
    page.wait_for_function(f"() => document.querySelector('.grading-current')?.id === 'response-{response.pk}'")


def test_keys_move_across_pages_and_saving_a_pages_last_answer_comes_back_at_the_next_answer(
        context, course, ta, settings):  # noqa: F811
    settings.GRADING_PAGE_SIZE = 3
    template = save_spec(EXPLAIN_RUBRIC)
    quiz = make_quiz(course, slugs=["rubric-explain"])  # noqa: F405
    responses = submit_class(quiz, course, [f"ANSWER-{n}" for n in range(1, 6)])
    page = context.new_page()
    log_in(page, ta.username)
    page.goto(f"/manage/assessments/{quiz.pk}/grading/questions/{template.pk}/?who=all&state=ungraded")
    current_is(page, responses[0])
    page.keyboard.press("j")
    page.keyboard.press("j")
    current_is(page, responses[2])
    page.keyboard.press("j")
    page.wait_for_url(re.compile(r".*[?&]page=2"))
    current_is(page, responses[3])
    assert "state=ungraded" in page.url and page.locator("[data-grading-card]").count() == 2
    shoot_both_widths(page, "grade-by-question-page-2")
    page.keyboard.press("k")
    page.wait_for_url(re.compile(r".*page=1#last$"))
    current_is(page, responses[2])
    page.keyboard.press("1")
    page.keyboard.press("s")
    # answer 3 is graded and leaves the ungraded list: answer 4 is now the third, on page 1
    page.wait_for_url(re.compile(rf".*#response-{responses[3].pk}$"))
    current_is(page, responses[3])
    responses[2].refresh_from_db()
    assert (responses[2].grading_state, responses[2].graded_by) == (Response.GRADED, ta)
    assert "ANSWER-3" not in page.locator("#grading-cards").inner_text()
