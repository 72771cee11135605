"""Write docs/screenshots/{quiz,result,gradebook}-{1280,390}.png from a running dlquiz with the demo course.

    bash scripts/run.sh                      # or any server with `load_demo` (and `simulate_class`) data
    .venv/bin/python manage.py simulate_class CSCI4701 --students 14
    .venv/bin/python scripts/take_screenshots.py http://127.0.0.1:8000

Run it from the project with the same DATABASE_URL as the server: it adds (once) a practice with the bank's
wide loss table and code questions, and drives student1's attempt at it through the services.
"""
from __future__ import annotations

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")  # Playwright's sync API keeps an event loop here

import django  # noqa: E402

django.setup()

from django.contrib.auth import get_user_model  # noqa: E402
from playwright.sync_api import sync_playwright  # noqa: E402

from exams import attempts  # noqa: E402
from exams.demo import COURSE_CODE  # noqa: E402
from exams.models import Assessment, Attempt, Course  # noqa: E402

SHOTS = ROOT / "docs" / "screenshots"
TITLE = "Lecture 10 practice"
SLUGS = ["early-stopping-restored-epoch", "training-step-completion", "softmax-dim-output", "explain-missing-zero-grad"]


def practice(course: Course) -> Assessment:
    quiz = Assessment.objects.filter(course=course, title=TITLE).first()
    if quiz is None:
        template = Assessment.objects.get(course=course, title="Quiz 1")
        quiz = Assessment.objects.create(
            course=course, title=TITLE, kind=Assessment.QUIZ, blueprint=[{"templates": SLUGS}],
            time_limit_minutes=45, opens_at=template.opens_at, closes_at=template.closes_at, attempts_allowed=2,
            results_released_at=template.opens_at, answers_released_at=template.opens_at,
            state=Assessment.PUBLISHED)
    return quiz


def shoot(page, name: str) -> None:
    # A viewport as tall as the page: full_page=True would draw the sticky quiz bar mid-page.
    width = page.viewport_size["width"]
    page.evaluate("() => window.scrollTo(0, 0)")
    height = page.evaluate("() => document.documentElement.scrollHeight")
    page.set_viewport_size({"width": width, "height": min(max(height, 600), 4000)})
    page.screenshot(path=str(SHOTS / f"{name}.png"))
    print("wrote", SHOTS / f"{name}.png", "page width", page.evaluate("() => document.documentElement.scrollWidth"))


def log_in(page, base: str, username: str, password: str) -> None:
    page.set_default_timeout(120_000)  # a development server on a busy machine
    page.goto(base + "/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.click("button[type=submit]")
    page.wait_for_url(base + "/")


def shoot_page(browser, width: int, base: str, username: str, path: str, name: str, *, math: bool = False) -> None:
    """One screenshot in a fresh browser context, logged in as a demo user (password: <username>-pass)."""
    context = browser.new_context(viewport={"width": width, "height": 900})
    page = context.new_page()
    log_in(page, base, username, f"{username}-pass")
    page.goto(f"{base}{path}")
    if math:
        page.wait_for_function("() => document.documentElement.dataset.mathReady === 'yes'")
    shoot(page, name)
    context.close()


def main(base: str) -> None:
    course = Course.objects.get(code=COURSE_CODE)
    student = get_user_model().objects.get(username="student1")
    quiz = practice(course)
    open_attempt = attempts.start_attempt(quiz, student)
    attempts.attempt_questions(open_attempt)  # generate its variants here, not in the first page view
    done = Attempt.objects.filter(assessment=quiz, student=student, state=Attempt.SUBMITTED).first()
    SHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=["--no-sandbox"])
        for width in (1280, 390):
            shoot_page(browser, width, base, "student1", f"/attempts/{open_attempt.pk}/", f"quiz-{width}", math=True)
        if done is None:
            for slot in open_attempt.slots.all():
                if slot.template.slug == "early-stopping-restored-epoch":
                    attempts.autosave(open_attempt, slot.pk, "1", user=student)
            attempts.submit_attempt(open_attempt, user=student)
            done = open_attempt
        for width in (1280, 390):
            shoot_page(browser, width, base, "student1", f"/attempts/{done.pk}/", f"result-{width}", math=True)
            shoot_page(browser, width, base, "instructor", f"/courses/{course.pk}/gradebook/", f"gradebook-{width}")
        browser.close()


if __name__ == "__main__":
    main(sys.argv[1].rstrip("/") if len(sys.argv) > 1 else "http://127.0.0.1:8000")
