"""In headless Chromium, on a simulated class of 30: a TA asks for answer groups on the grading-by-question
page, opens the groups, unticks the first answer of the largest group (exceptions are listed first), applies a
rubric item to the rest and finds exactly those graded; the page shows a grouping's progress while a worker
runs it. Set DLQUIZ_SCREENSHOTS=1 to (re)write docs/screenshots/answer-groups-*.png and
grade-by-question-*.png at 1280 and 390 px."""
from __future__ import annotations

import os

import pytest

from exams import answer_groups, rubrics
from exams.models import AnswerGroupMember, AnswerGrouping, Response
from quizbank.services import save_spec
from tests.answer_group_support import realistic_answers, submit_class
from tests.rubric_support import EXPLAIN_RUBRIC
from tests.test_browser_quiz import SCREENSHOTS, _db, browser, context, log_in  # noqa: F401 - fixtures
from tests.web_fixtures import *  # noqa: F403

pytestmark = [pytest.mark.browser]


@pytest.fixture
def simulated_class(course):
    template = save_spec(EXPLAIN_RUBRIC)
    quiz = make_quiz(course, slugs=["rubric-explain"])  # noqa: F405
    responses = submit_class(quiz, course, [text for text, _ in realistic_answers(30, seed=4, blank_share=0)])
    answer_groups.load_model()  # the live server runs in this process: its request finds the model loaded
    return quiz, template, responses


def shoot_both_widths(page, name: str) -> None:
    """docs/screenshots/NAME-1280.png and NAME-390.png: the top of the page, at most 2400 px of it."""
    if not os.environ.get("DLQUIZ_SCREENSHOTS"):
        return
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    for width in (1280, 390):
        page.set_viewport_size({"width": width, "height": 900})
        height = page.evaluate("document.documentElement.scrollHeight")
        page.set_viewport_size({"width": width, "height": min(max(height, 600), 2400)})
        page.evaluate("window.scrollTo(0, 0)")
        page.screenshot(path=str(SCREENSHOTS / f"{name}-{width}.png"))
        assert page.evaluate("document.documentElement.scrollWidth") <= width  # nothing wider than the screen
    page.set_viewport_size({"width": 1100, "height": 900})


def test_a_ta_grades_an_answer_group_except_the_answer_they_unticked(context, simulated_class, ta):  # noqa: F811
    from config.celery import app

    quiz, template, responses = simulated_class
    page = context.new_page()
    problems: list[str] = []  # what the strict CSP refused, and script errors
    page.on("console", lambda message: problems.append(message.text)
            if "Content Security Policy" in message.text or "Content-Security-Policy" in message.text else None)
    page.on("pageerror", lambda error: problems.append(str(error)))
    log_in(page, ta.username)
    page.goto(f"/manage/assessments/{quiz.pk}/grading/questions/{template.pk}/?who=all")
    shoot_both_widths(page, "grade-by-question")
    app.conf.task_always_eager = True  # the grouping runs in the server thread after the commit, as a worker would
    try:
        page.click("[data-suggest-button]")
        page.wait_for_selector("#answer-groups[data-state=done]", timeout=120_000)
    finally:
        app.conf.task_always_eager = False
    assert page.locator("[data-groups-link]").is_visible()
    page.click("[data-groups-link]")
    first_group = page.locator("[data-answer-group]").first
    group_id = int(first_group.get_attribute("data-answer-group"))
    members = list(AnswerGroupMember.objects.filter(group_id=group_id).values_list("response_id", flat=True))
    assert len(members) >= 3
    shoot_both_widths(page, "answer-groups")
    checkboxes = first_group.locator('input[name="responses"]')
    assert checkboxes.count() == len(members) and all(checkboxes.nth(i).is_checked() for i in range(len(members)))
    skipped = int(checkboxes.first.get_attribute("value"))
    checkboxes.first.uncheck()
    first_group.locator('input[name="items"]').first.check()
    first_group.locator("button[type=submit]").click()
    page.wait_for_selector(".messages .success")
    assert f"Graded {len(members) - 1} answers of group 1." in page.locator(".messages").inner_text()
    item = rubrics.items_for(quiz, template)[0]
    graded = Response.objects.filter(pk__in=members).exclude(pk=skipped)
    assert {(r.grading_state, r.graded_by_id) for r in graded} == {(Response.GRADED, ta.pk)}
    assert all([i.pk for i in r.rubric_grade.items.all()] == [item.pk] for r in graded)
    assert Response.objects.get(pk=skipped).grading_state == Response.MANUAL
    others = Response.objects.filter(pk__in=[r.pk for r in responses]).exclude(pk__in=members)
    assert set(others.values_list("grading_state", flat=True)) == {Response.MANUAL}
    assert "to grade" in first_group.inner_text()  # the unticked answer still waits for a person
    shoot_both_widths(page, "answer-groups-applied")
    assert problems == []


def test_the_page_shows_the_progress_of_a_grouping_while_a_worker_runs_it(context, simulated_class, ta):  # noqa: F811
    from exams import clock

    quiz, template, _ = simulated_class
    run = AnswerGrouping.objects.create(assessment=quiz, template=template, requested_by=ta,
                                        requested_at=clock.now())  # queued, as if sent to a busy worker
    page = context.new_page()
    log_in(page, ta.username)
    page.goto(f"/manage/assessments/{quiz.pk}/grading/questions/{template.pk}/?who=all")
    assert page.locator("[data-suggest-button]").is_disabled()
    page.wait_for_function("() => document.querySelector('[data-grouping-label]').textContent.includes('Waiting')")
    assert page.locator("[data-grouping-bar]").is_visible()
    shoot_both_widths(page, "answer-groups-progress")
    answer_groups.run_grouping(run.pk)  # the worker
    page.wait_for_selector("#answer-groups[data-state=done]")
    page.wait_for_function("() => !document.querySelector('[data-groups-link]').hidden")
    assert "groups of 30 answers" in page.locator("[data-grouping-label]").inner_text()
    assert page.locator("[data-suggest-button]").is_enabled()
