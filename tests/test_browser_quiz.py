"""End to end in Debian's headless Chromium (Playwright) against Django's live server.

Student: logs in, starts a quiz, answers, reloads and finds answers and remaining time intact, goes offline
and sees "connection lost", comes back and it saves, and lets the timer run out.
Instructor: publishes (progress bar), grades a written answer, downloads the gradebook CSV.

Set DLQUIZ_SCREENSHOTS=1 to (re)write docs/screenshots/*.png while the tests run.
"""
from __future__ import annotations

import os
import re
from datetime import timedelta
from pathlib import Path

import pytest

from exams import attempts as attempt_service
from exams import clock
from exams.models import Assessment, Attempt, Response
from quizbank.services import save_spec
from tests.web_fixtures import *  # noqa: F403

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
SCREENSHOTS = Path(__file__).resolve().parent.parent / "docs" / "screenshots"
TIMEOUT_MS = 15_000

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian chromium is not installed at /usr/bin/chromium"),
]


@pytest.fixture(scope="module")
def browser():
    sync_api = pytest.importorskip("playwright.sync_api", reason="the playwright package is not installed")
    # Playwright's sync API keeps an event loop in this thread; the ORM calls here are still synchronous.
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_api.sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
            yield browser
            browser.close()
    finally:
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture
def context(browser, live_server):
    context = browser.new_context(base_url=live_server.url, viewport={"width": 1100, "height": 900})
    context.set_default_timeout(TIMEOUT_MS)
    yield context
    context.close()


@pytest.fixture(autouse=True)
def _db(transactional_db):
    """The live server runs in another thread: tests need committed data."""


def screenshot(page, name: str) -> None:
    if os.environ.get("DLQUIZ_SCREENSHOTS"):
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        # A viewport as tall as the page (not full_page=True, which draws the sticky quiz bar mid-page).
        viewport = page.viewport_size
        height = page.evaluate("document.documentElement.scrollHeight")
        page.set_viewport_size({"width": viewport["width"], "height": max(height, 600)})
        page.evaluate("window.scrollTo(0, 0)")
        page.screenshot(path=str(SCREENSHOTS / f"{name}.png"))
        page.set_viewport_size(viewport)


def log_in(page, username: str) -> None:
    page.goto("/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(re.compile(r".*/$"))


def wait_for_quiz(page) -> None:
    """The quiz page is there and its script has run: `#quiz` alone is in the DOM before the deferred scripts
    have set up saving (a test that typed then raced quiz.js, and lost once in CI)."""
    page.wait_for_selector("#quiz")
    page.wait_for_function("() => window.dlquiz !== undefined && window.dlquiz.questions !== undefined")


def global_status(page):
    return page.locator("#global-save-status")


def countdown_seconds(page) -> int:
    minutes, seconds = page.locator("#countdown").inner_text().split(":")[-2:]
    return int(minutes) * 60 + int(seconds)


def test_a_student_answers_reloads_goes_offline_and_comes_back_without_losing_anything(context, course, student, bank):
    save_spec(SQUARE_COMPLETION)
    quiz = make_quiz(course, slugs=["web-double", "web-pick", "web-explain", "web-print", "web-square"])
    page = context.new_page()
    page.on("dialog", lambda dialog: dialog.accept())
    log_in(page, "sam")
    page.goto(f"/assessments/{quiz.pk}/")
    screenshot(page, "start-page")
    page.click("text=Start Quiz 1")
    page.wait_for_selector("#quiz")
    page.wait_for_function("() => document.documentElement.dataset.mathReady === 'yes'")
    assert page.locator(".katex").count() > 0  # $b^2$ typeset by KaTeX
    assert page.locator(".CodeMirror").count() == 1  # the completion editor
    attempt = Attempt.objects.get(student=student)
    double = attempt.slots.get(template__slug="web-double")
    pick = attempt.slots.get(template__slug="web-pick")

    short = page.locator(f"#answer-{double.pk}")
    short.click()
    short.type("14")
    page.locator(f"section[data-slot='{pick.pk}'] input[type=radio]").nth(1).check()
    page.wait_for_function("() => document.getElementById('global-save-status').textContent === 'All answers saved'")
    assert page.locator(f"section[data-slot='{double.pk}'] .save-status").inner_text() == "Saved"
    assert Response.objects.get(slot=double).text == "14"
    assert Response.objects.get(slot=pick).text == "1"
    screenshot(page, "quiz-page")

    before = countdown_seconds(page)
    page.reload()
    page.wait_for_selector("#quiz")
    assert short.input_value() == "14"
    assert page.locator(f"section[data-slot='{pick.pk}'] input[type=radio]").nth(1).is_checked()
    after = countdown_seconds(page)
    assert 0 <= before - after <= 5, (before, after)  # the server's clock, not a fresh 30 minutes

    explain = attempt.slots.get(template__slug="web-explain")
    context.set_offline(True)
    essay = page.locator(f"#answer-{explain.pk}")
    essay.fill("It keeps the expected activation the same.")
    essay.blur()
    page.wait_for_function(
        "() => document.getElementById('global-save-status').textContent.startsWith('Connection lost')")
    stored = page.evaluate(f"localStorage.getItem('dlquiz:attempt:{attempt.pk}:slot:{explain.pk}')")
    assert "expected activation" in stored
    assert Response.objects.get(slot=explain).text == ""
    context.set_offline(False)
    page.wait_for_function("() => document.getElementById('global-save-status').textContent === 'All answers saved'",
                           timeout=40_000)
    assert Response.objects.get(slot=explain).text == "It keeps the expected activation the same."
    assert page.evaluate(f"localStorage.getItem('dlquiz:attempt:{attempt.pk}:slot:{explain.pk}')") is None

    page.click("#submit-button")
    dialog = page.locator("#submit-dialog")
    assert dialog.is_visible()
    assert "Question" in dialog.locator("[data-unanswered]").inner_text()  # print + completion unanswered
    dialog.locator("[data-cancel]").click()
    assert Attempt.objects.get(pk=attempt.pk).is_open


def test_when_the_timer_runs_out_the_page_submits_what_was_saved(context, course, student, bank):
    page = context.new_page()
    log_in(page, "sam")
    # Long enough to type and save on a loaded CI machine; the test then waits for the deadline to pass.
    quiz = make_quiz(course, slugs=["web-double", "web-print"], closes_at=clock.now() + timedelta(seconds=20))
    page.goto(f"/assessments/{quiz.pk}/")
    page.click("text=Start Quiz 1")
    page.wait_for_selector("#quiz")
    attempt = Attempt.objects.get(student=student)
    double = attempt.slots.get(template__slug="web-double")
    # Typed as soon as the form exists, possibly before quiz.js has loaded: the script must still save it.
    page.locator(f"#answer-{double.pk}").type("6")
    page.wait_for_function("() => (document.getElementById('global-save-status') || {}).textContent === 'All answers saved'", polling=200)
    page.wait_for_selector("#attempt-closed-state", timeout=40_000)
    assert "time ran out" in page.locator("#attempt-closed-state").inner_text()
    attempt.refresh_from_db()
    assert attempt.state == Attempt.SUBMITTED and attempt.submitted_by == Attempt.BY_TIMER
    assert Response.objects.get(slot=double).text == "6"


def test_an_instructor_publishes_grades_a_written_answer_and_downloads_the_csv(context, course, instructor, student,
                                                                               other_student, bank):
    from config.celery import app

    draft = make_quiz(course, slugs=["web-double", "web-explain"], published=False)
    page = context.new_page()
    log_in(page, "irene")
    page.goto(f"/manage/assessments/{draft.pk}/")
    app.conf.task_always_eager = True  # run pre-generation in the server thread, as a worker would
    try:
        # The publication (pre-flight + the class's variants) runs inside this request: wait for its end.
        page.click("#publish-button", no_wait_after=True)
        page.wait_for_selector("[data-progress-url][data-status=done]", timeout=120_000)
    finally:
        app.conf.task_always_eager = False
    draft.refresh_from_db()
    assert draft.state == Assessment.PUBLISHED and draft.pregen_done == draft.pregen_total > 0
    assert page.locator("progress").get_attribute("value") == str(draft.pregen_total)

    attempt = attempt_service.start_attempt(draft, student)
    written = attempt.slots.get(template__slug="web-explain")
    attempt_service.autosave(attempt, written.pk, "Scaling by 1/(1-p) keeps the expectation.", user=student)
    attempt_service.submit_attempt(attempt, user=student)

    page.goto(f"/manage/assessments/{draft.pk}/grading/")
    page.click("text=Sam")
    assert "RUBRIC-SECRET" in page.locator(".rubric").inner_text()
    assert "keeps the expectation" in page.locator("#student-answer").inner_text()
    screenshot(page, "grading-page")
    page.fill("#id_score_percent", "100")
    page.fill("#id_feedback", "Exactly.")
    page.locator("button[type=submit]", has_text=re.compile("^Save$")).click()
    page.wait_for_selector(".messages .success")
    response = Response.objects.get(slot=written)
    assert response.score == 1.0 and response.feedback == "Exactly." and response.graded_by == instructor

    second = attempt_service.start_attempt(draft, other_student)
    attempt_service.autosave(second, second.slots.get(template__slug="web-double").pk, "0", user=other_student)
    attempt_service.submit_attempt(second, user=other_student)
    page.goto(f"/courses/{course.pk}/gradebook/")
    assert "Sam" in page.locator("table.gradebook").inner_text()
    with page.expect_download() as download_info:
        page.click("#gradebook-csv")
    csv_text = Path(download_info.value.path()).read_text(encoding="utf-8-sig")
    assert "S001" in csv_text and "Quiz 1" in csv_text
