"""In headless Chromium: the instructor builds a quiz from the syllabus preset, picks a template in the
searchable picker, sees the pool counts update, saves; then releases results and the student sees them.

Set DLQUIZ_SCREENSHOTS=1 to (re)write docs/screenshots/assessment-form{,-390}.png and
blueprint-editor{,-390}.png (1280 and 390 px wide), and release-controls.png.
"""
from __future__ import annotations

import os

import pytest

from exams import attempts as attempt_service
from exams.models import Assessment
from tests.exams_personas import build_bank
from tests.test_browser_quiz import SCREENSHOTS, _db, browser, context, log_in  # noqa: F401 - fixtures
from tests.web_fixtures import *  # noqa: F403

pytestmark = [pytest.mark.browser]


def shoot(page, name: str, width: int, selector: str | None = None) -> None:
    if not os.environ.get("DLQUIZ_SCREENSHOTS"):
        return
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.set_viewport_size({"width": width, "height": 900})
    height = page.evaluate("document.documentElement.scrollHeight")
    page.set_viewport_size({"width": width, "height": max(height, 600)})
    if selector:
        page.locator(selector).screenshot(path=str(SCREENSHOTS / f"{name}.png"))
    else:
        page.evaluate("window.scrollTo(0, 0)")
        page.screenshot(path=str(SCREENSHOTS / f"{name}.png"))
    page.set_viewport_size({"width": 1280, "height": 900})


def test_the_instructor_builds_a_quiz_from_the_preset_and_a_picked_template(context, course, instructor, bank):
    build_bank(mcq=8, short=2, code=6, lectures=(1,), prefix="bank")
    page = context.new_page()
    page.set_viewport_size({"width": 1280, "height": 900})
    log_in(page, "irene")
    page.goto(f"/courses/{course.pk}/")
    page.click("#new-assessment-link")
    page.wait_for_selector("#assessment-form")
    assert "Asia/Baku (UTC+04:00)" in page.locator("#zone-note").inner_text()

    page.fill("#id_title", "Quiz 2")
    page.fill("#preset-lectures", "1-3")
    page.click("#preset-quiz")
    page.wait_for_selector("#pool-table")
    assert page.locator("select[name=draw_qtype]").evaluate_all("els => els.map(e => e.value)")[:3] == \
        ["mcq", "short", "code"]
    assert page.locator("input[name=draw_count]").evaluate_all("els => els.map(e => e.value)")[:3] == ["4", "3", "3"]
    assert page.input_value("#id_time_limit_minutes") == "30"
    assert page.input_value("#id_title") == "Quiz 2"

    page.fill("#picker-search", "print")
    page.wait_for_function("() => document.querySelectorAll('#picker tr[data-search]:not([hidden])').length === 1")
    page.check("#pick-web-print")
    page.wait_for_function("() => document.getElementById('pool-report').dataset.refreshed")
    page.wait_for_function("() => document.querySelectorAll('#pool-table tbody tr').length === 4")
    assert page.locator("[data-picked-summary]").inner_text() == "1 picked"
    page.fill("#picker-search", "")
    page.fill("#id_opens_at", "2026-02-10T09:00")
    page.fill("#id_due_at", "2026-02-12T23:00")
    page.fill("#id_closes_at", "2026-02-13T23:00")
    page.fill("#id_instructions", "Closed book. Answer **all** questions; $\\eta$ is the learning rate.")
    shoot(page, "assessment-form", 1280)
    shoot(page, "blueprint-editor", 1280, "#blueprint")
    page.click("#save-assessment")
    page.wait_for_selector(".messages .success")

    quiz = Assessment.objects.get(title="Quiz 2")
    assert quiz.blueprint[-1] == {"templates": ["web-print"]} and quiz.time_limit_minutes == 30
    rows = page.locator("#pool-table tbody tr")
    pools = rows.evaluate_all("els => els.map(e => [e.dataset.pool, e.dataset.count, e.dataset.status])")
    # 9 MCQ (8 + web-pick); short: 2 + web-double + web-explain = 4 for 3 (thin); code: 6 (web-print is picked)
    assert pools == [["9", "4", "ok"], ["4", "3", "thin"], ["6", "3", "ok"], ["1", "1", "ok"]]
    assert "Little variety" in rows.nth(1).inner_text()
    shoot(page, "assessment-form-390", 390)
    shoot(page, "blueprint-editor-390", 390, "#blueprint")


def test_the_instructor_releases_results_and_the_student_sees_them(browser, live_server, course, instructor, student,
                                                                   bank):
    quiz = make_quiz(course, slugs=["web-double"])
    attempt = attempt_service.start_attempt(quiz, student)
    attempt_service.submit_attempt(attempt, user=student)
    staff = browser.new_context(base_url=live_server.url)
    page = staff.new_page()
    log_in(page, "irene")
    page.goto(f"/manage/assessments/{quiz.pk}/")
    page.click("#release-link")
    page.check("input[name=results][value=now]")
    page.click("#save-release")
    page.wait_for_selector(".messages .success")
    assert "Released" in page.locator("[data-release=results]").inner_text()
    shoot(page, "release-controls", 1280)
    staff.close()

    learner = browser.new_context(base_url=live_server.url)
    page = learner.new_page()
    log_in(page, "sam")
    page.goto(f"/attempts/{attempt.pk}/")
    assert "Results released on" in page.locator("[data-release-status]").inner_text()
    assert page.locator(".result-score").count() == 1
    learner.close()


def test_a_released_results_page_shows_a_code_grade_by_itself_once_the_runner_has_graded_it(
        browser, live_server, course, student, bank):
    from exams.grading import refresh_attempt_score
    from exams.models import Response

    quiz = make_quiz(course, slugs=["web-double", "web-pick"])
    Assessment.objects.filter(pk=quiz.pk).update(results_released_at=quiz.opens_at)
    attempt = attempt_service.submit_attempt(attempt_service.start_attempt(quiz, student), user=student)
    waiting = attempt.responses.order_by("pk").first()
    Response.objects.filter(pk=waiting.pk).update(grading_state=Response.QUEUED, score=None)  # the runner has it
    refresh_attempt_score(attempt.pk)
    learner = browser.new_context(base_url=live_server.url)
    page = learner.new_page()
    log_in(page, "sam")
    page.goto(f"/attempts/{attempt.pk}/")
    assert "1 answer still being graded" in page.locator("#grading-pending").inner_text()
    Response.objects.filter(pk=waiting.pk).update(grading_state=Response.GRADED, score=1.0)  # ...and graded it
    refresh_attempt_score(attempt.pk)
    page.wait_for_url("**/?refresh=1", timeout=15_000)  # the page looked again by itself, after 5 s
    assert page.locator("#grading-pending").count() == 0
    learner.close()
