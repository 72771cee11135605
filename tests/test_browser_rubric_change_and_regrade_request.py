"""In headless Chromium, one written answer's life after grading: the instructor changes a rubric item's points
and the grade follows; after release the student reads the model answer (never the rubric), asks for a
regrade with a reason; the instructor answers it from the regrade queue with a new score; the student reads
the reply and the new score."""
from __future__ import annotations

import pytest

from exams import clock, rubrics
from exams.models import RegradeRequest, Response
from quizbank.services import save_spec
from tests.rubric_support import EXPLAIN_RUBRIC, submit_answer
from tests.test_browser_quiz import _db, browser, context, log_in  # noqa: F401 - fixtures
from tests.web_fixtures import *  # noqa: F403

pytestmark = [pytest.mark.browser]


def test_a_changed_item_regrades_and_a_regrade_request_goes_round_trip(context, browser, live_server, course,
                                                                       instructor, ta, student):  # noqa: F811
    template = save_spec(EXPLAIN_RUBRIC)
    quiz = make_quiz(course, slugs=["rubric-explain"])  # noqa: F405
    sam = submit_answer(quiz, student, "Because sigmoid saturates.")
    names_it = rubrics.items_for(quiz, template)[0]  # "+2 names the vanishing gradient" of 3 points
    rubrics.apply_rubric(sam, ta, [names_it.pk])
    sam.refresh_from_db()
    assert sam.score == pytest.approx(2 / 3)

    staff_page = context.new_page()
    log_in(staff_page, instructor.username)
    staff_page.goto(f"/manage/assessments/{quiz.pk}/grading/questions/{template.pk}/?who=all")
    points = staff_page.get_by_label("Points of item 1")
    points.fill("1")
    points.locator("xpath=..").get_by_role("button", name="Change and regrade").click()
    staff_page.wait_for_load_state()
    sam.refresh_from_db()
    assert sam.score == pytest.approx(1 / 2)  # 1 of the 2 positive points now

    quiz.results_released_at = quiz.answers_released_at = clock.now()
    quiz.save()
    student_context = browser.new_context(base_url=live_server.url)  # the student's own browser
    student_page = student_context.new_page()
    log_in(student_page, student.username)
    student_page.goto(f"/attempts/{sam.attempt_id}/")
    assert "MODEL-ANSWER" in student_page.locator(".math-scope").all_inner_texts()[0]
    assert "names the vanishing gradient" not in student_page.content()
    student_page.locator("summary", has_text="Ask for a regrade").click()
    student_page.locator("textarea[name=reason]").fill("I named the saturation, which is the vanishing gradient.")
    student_page.get_by_role("button", name="Ask for a regrade").click()
    student_page.wait_for_selector("[data-regrade-state='open']")
    assert RegradeRequest.objects.get(response=sam).state == RegradeRequest.OPEN

    staff_page.goto(f"/manage/assessments/{quiz.pk}/regrade-requests/")
    staff_page.locator("textarea[name=reply]").fill("Agreed: full marks.")
    staff_page.locator("input[name=score_percent]").fill("100")
    staff_page.get_by_role("button", name="Answer").click()
    staff_page.wait_for_load_state()
    assert Response.objects.get(pk=sam.pk).score == pytest.approx(1.0)

    student_page.reload()
    student_page.wait_for_selector("[data-regrade-state='answered']")
    assert "Agreed: full marks." in student_page.content() and "score changed to 100%" in student_page.content()
    student_context.close()
