"""In headless Chromium: a question author's stem full of script (a <script>, an <img onerror>, javascript:
links) runs nothing for the student taking the quiz, the student reading the result, the instructor grading it, or
the superuser previewing it in the admin; every one of those pages is under the Content-Security-Policy
with no violation of it, and KaTeX, CodeMirror, autosave and the grading buttons still work under it."""
from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING

import pytest
from django.urls import reverse

from exams.models import Attempt, Response
from quizbank.services import save_spec
from quizbank.spec import TemplateSpec
from tests.test_browser_quiz import _db, browser, context, log_in, wait_for_quiz  # noqa: F401 - fixtures
from tests.web_fixtures import *  # noqa: F403

if TYPE_CHECKING:
    from playwright.sync_api import Page
    from playwright.sync_api import Response as PageResponse

pytestmark = [pytest.mark.browser]

HOSTILE = TemplateSpec(
    slug="web-hostile", title="Hostile stem", kind="short", qtype="short", lectures=(1,),
    parameters="k = rng.randint(2, 5)\n",
    stem=("Explain why $x^2$ grows for x = {{ k }}.\n\n"
          "<script>window.__pwned=1</script>\n\n"
          '<img src=x onerror="window.__pwned=2">\n\n'
          "[markdown link](javascript:window.__pwned=3) and "
          '<a href="javascript:window.__pwned=4" id="raw-link">raw link</a>'),
    answer={"format": "manual", "rubric": "Any reasonable sentence."},
    explanation='Because <img src=x onerror="window.__pwned=5"> squares grow.',
)
# Records violations from the first byte of every page; init scripts are injected by the browser itself,
# outside the page's CSP.
RECORD_VIOLATIONS = """
window.__violations = [];
document.addEventListener("securitypolicyviolation",
  (e) => window.__violations.push(e.violatedDirective + " " + e.blockedURI));
"""


# wait_for_function is given arrow functions: Playwright polls a bare expression string through eval(),
# which script-src 'self' (rightly) refuses.


class PageWatch:
    """Console messages and uncaught errors that mention the policy, for the whole life of a page."""

    def __init__(self, page: Page) -> None:
        self.page = page
        self.problems: list[str] = []
        page.on("console", lambda message: self._console(message.type, message.text))
        page.on("pageerror", lambda error: self.problems.append(f"pageerror: {error}"))
        page.add_init_script(RECORD_VIOLATIONS)

    def _console(self, kind: str, text: str) -> None:
        if "Content Security Policy" in text or "Content-Security-Policy" in text:
            self.problems.append(f"console {kind}: {text}")

    def violations(self) -> list[str]:
        return self.problems + self.page.evaluate("window.__violations || []")


def assert_nothing_ran(page: Page) -> None:
    for link in page.locator(".stem a, .math-scope a").all():
        link.click()
    assert page.evaluate("typeof window.__pwned") == "undefined"
    assert page.locator("main script, .qb-cards script").count() == 0
    assert page.locator("[onerror], [onclick], [onload]").count() == 0
    assert page.locator("a[href^='javascript:' i]").count() == 0
    assert page.locator("#raw-link").count() == 0  # authored ids are dropped too


def assert_policy_header(response: PageResponse | None) -> None:
    assert response is not None
    header = response.header_value("content-security-policy") or ""
    script_src = next(part.strip() for part in header.split(";") if part.strip().startswith("script-src "))
    assert script_src == "script-src 'self'", header


def wait_for(condition: Callable[[], bool], timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.2)


def test_a_hostile_stem_runs_nothing_for_the_student_and_the_quiz_still_works_under_the_policy(
        context, live_server, course, student, instructor) -> None:
    save_spec(HOSTILE)
    save_spec(SQUARE_COMPLETION)
    quiz = make_quiz(course, slugs=["web-hostile", "web-square"])
    page = context.new_page()
    watch = PageWatch(page)
    page.on("dialog", lambda dialog: dialog.accept())
    log_in(page, "sam")
    page.goto(f"/assessments/{quiz.pk}/")
    page.click("text=Start Quiz 1")
    wait_for_quiz(page)
    page.wait_for_function("() => document.documentElement.dataset.mathReady === 'yes'")
    assert page.locator(".stem .katex").count() > 0  # $x^2$ typeset by KaTeX
    assert page.locator(".CodeMirror").count() == 1
    assert_nothing_ran(page)

    attempt = Attempt.objects.get(student=student)
    hostile = attempt.slots.get(template__slug="web-hostile")
    essay = page.locator(f"#answer-{hostile.pk}")
    essay.fill("Squares grow faster than x.")
    essay.blur()
    wait_for(lambda: Response.objects.get(slot=hostile).text == "Squares grow faster than x.")
    reloaded = page.reload()
    assert_policy_header(reloaded)
    wait_for_quiz(page)
    assert page.locator(f"#answer-{hostile.pk}").input_value() == "Squares grow faster than x."
    assert_nothing_ran(page)
    assert watch.violations() == []

    page.goto(f"/attempts/{attempt.pk}/")
    page.click("#submit-button")
    page.locator("#submit-dialog [data-confirm]").click()
    page.wait_for_selector("#attempt-closed-state")
    result = page.reload()
    assert_policy_header(result)
    page.wait_for_function("() => document.documentElement.dataset.mathReady === 'yes'")
    assert page.locator(".stem .katex").count() > 0
    assert_nothing_ran(page)
    assert watch.violations() == []

    grader = context.browser.new_context(base_url=live_server.url)
    grader.set_default_timeout(15_000)
    try:
        grading = grader.new_page()
        grading_watch = PageWatch(grading)
        log_in(grading, "irene")
        response_row = Response.objects.get(slot=hostile)
        answer = grading.goto(f"/manage/responses/{response_row.pk}/grade")
        assert_policy_header(answer)
        grading.wait_for_function("() => document.documentElement.dataset.mathReady === 'yes'")
        assert grading.locator(".stem .katex").count() > 0
        assert_nothing_ran(grading)
        grading.click("button[data-quick-score='50']")  # static/js/grading.js, no inline handler
        assert grading.locator("#id_score_percent").input_value() == "50"
        assert grading_watch.violations() == []
    finally:
        grader.close()


def test_a_hostile_stem_runs_nothing_in_the_admin_preview_and_the_policy_refuses_script_added_later(
        context, admin_user) -> None:
    template = save_spec(HOSTILE)
    page = context.new_page()
    watch = PageWatch(page)
    log_in(page, "ada")
    for url in (reverse("admin:index"), reverse("admin:quizbank_template_changelist"),
                reverse("admin:quizbank_template_change", args=[template.pk])):
        assert_policy_header(page.goto(url))
        assert watch.violations() == [], url
    response = page.goto(reverse("admin:quizbank_template_preview", args=[template.pk]) + "?seeds=1,2")
    assert_policy_header(response)
    page.wait_for_function("() => document.documentElement.dataset.mathReady === 'yes'")
    assert page.locator(".qb-card").count() == 2
    assert page.locator(".qb-card .stem .katex").count() == 2
    assert "Any reasonable sentence." in page.locator(".qb-cards").inner_text()
    assert_nothing_ran(page)
    assert watch.violations() == []

    # The policy is the second wall: script that got past the sanitiser is refused and reported.
    page.evaluate("""() => {
      const s = document.createElement('script'); s.textContent = 'window.__pwned = 9'; document.body.append(s);
      document.body.insertAdjacentHTML('beforeend', '<img src="/static/css/site.css" onerror="window.__pwned = 10">');
    }""")
    page.wait_for_function("() => window.__violations.length >= 2")
    assert page.evaluate("typeof window.__pwned") == "undefined"
