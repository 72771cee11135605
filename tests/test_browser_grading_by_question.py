"""In headless Chromium: a TA grades two written answers from the keyboard on the grading-by-question page
(number keys toggle rubric items, s saves and the page comes back at the next answer, j/k move)."""
from __future__ import annotations

import re

import pytest

from exams import rubrics
from exams.models import Response
from quizbank.services import save_spec
from tests.rubric_support import EXPLAIN_RUBRIC, submit_answer
from tests.test_browser_quiz import _db, browser, context, log_in  # noqa: F401 - fixtures
from tests.web_fixtures import *  # noqa: F403

pytestmark = [pytest.mark.browser]


def test_a_ta_grades_two_answers_with_keyboard_shortcuts(context, course, ta, student, other_student):  # noqa: F811
    template = save_spec(EXPLAIN_RUBRIC)
    quiz = make_quiz(course, slugs=["rubric-explain"])  # noqa: F405
    olga = submit_answer(quiz, other_student, "OLGA-ANSWER")  # "olga" sorts before "sam": the first card
    sam = submit_answer(quiz, student, "SAM-ANSWER")
    page = context.new_page()
    log_in(page, ta.username)
    page.goto(f"/manage/assessments/{quiz.pk}/grading/questions/{template.pk}/?who=all")
    page.wait_for_function(f"() => document.querySelector('.grading-current')?.id === 'response-{olga.pk}'")
    page.keyboard.press("j")
    page.wait_for_function(f"() => document.querySelector('.grading-current')?.id === 'response-{sam.pk}'")
    page.keyboard.press("k")
    page.wait_for_function(f"() => document.querySelector('.grading-current')?.id === 'response-{olga.pk}'")
    page.keyboard.press("1")
    assert page.locator(f"#response-{olga.pk} [data-item-key='1']").is_checked()
    page.keyboard.press("s")
    page.wait_for_url(re.compile(rf".*#response-{sam.pk}$"))
    page.wait_for_function(f"() => document.querySelector('.grading-current')?.id === 'response-{sam.pk}'")
    page.keyboard.press("2")
    page.keyboard.press("3")
    page.keyboard.press("3")  # toggled on and off again
    page.keyboard.press("s")
    page.wait_for_function("() => document.querySelector('#grading-progress')?.dataset.left === '0'")
    olga.refresh_from_db()
    sam.refresh_from_db()
    assert (olga.grading_state, olga.score, olga.graded_by) == (Response.GRADED, pytest.approx(2 / 3), ta)
    assert (sam.score, sam.graded_by) == (pytest.approx(1 / 3), ta)
    assert [item.text for item in sam.rubric_grade.items.all()] == ["mentions ReLU"]
    assert rubrics.progress(rubrics.question_responses(quiz, template)).left == 0
