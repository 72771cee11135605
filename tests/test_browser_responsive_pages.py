"""In headless Chromium at a laptop's 1280 px and a phone's 390 px: the quiz page, the result page and the
gradebook never scroll sideways as a whole (wide tables and code scroll in their own box, table cells stay
readable), the time-up and connection-lost notices stay on screen wherever the student has scrolled, and a
second tab (or device) on the same attempt takes over saving while the older one says so and stops.
"""
from __future__ import annotations

from datetime import timedelta

import pytest

from exams import attempts as attempt_service
from exams import clock
from exams.models import Attempt, Response
from quizbank.services import save_spec
from quizbank.spec import TemplateSpec
from tests.test_browser_quiz import (  # noqa: F401 (fixtures)
    CHROMIUM, TIMEOUT_MS, _db, browser, context, log_in, wait_for_quiz,
)
from tests.web_fixtures import *  # noqa: F403

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian chromium is not installed at /usr/bin/chromium"),
]

WIDTHS = (390, 1280)

# Shaped like bank/lecture-10/early-stopping-restored-epoch: a loss table with one column per epoch.
LOSS_TABLE = TemplateSpec(
    slug="web-loss-table", title="Restored epoch", kind="short", qtype="short", lectures=(1,),
    parameters="E = 16\nval = [round(0.9 - 0.03 * e + 0.002 * e * e, 3) for e in range(1, E + 1)]\n",
    stem=("The validation losses were:\n\n"
          "| epoch | {% for e in range(1, val|length + 1) %}{{ e }} | {% endfor %}\n"
          "|---|{% for e in val %}---|{% endfor %}\n"
          "| val loss | {% for v in val %}{{ \"%.3f\"|format(v) }} | {% endfor %}\n\n"
          "Which epoch has the lowest validation loss?"),
    solution="answer = min(range(1, E + 1), key=lambda e: val[e - 1])\n", answer={"format": "numeric"},
)
LONG_CODE = TemplateSpec(
    slug="web-long-code", title="Long line", kind="output", qtype="code", lectures=(1,),
    parameters="n = rng.randint(2, 5)\n", stem="What does this program print?",
    program=("learning_rates_to_try_in_this_sweep = [0.1, 0.03, 0.01, 0.003, 0.001, 0.0003, 0.0001, 0.00003, "
             "0.00001]; print(len(learning_rates_to_try_in_this_sweep) * {{ n }})\n"),
)


def fits_the_screen(page) -> bool:
    return page.evaluate("() => document.documentElement.scrollWidth <= window.innerWidth + 1")


def in_viewport(page, selector: str) -> bool:
    return page.evaluate("""(selector) => {
        const box = document.querySelector(selector).getBoundingClientRect();
        return box.height > 0 && box.top >= 0 && box.bottom <= window.innerHeight
            && box.left >= 0 && box.right <= window.innerWidth + 1;
    }""", selector)


def within_the_width(page, selector: str) -> bool:
    return page.evaluate("""(selector) => {
        const box = document.querySelector(selector).getBoundingClientRect();
        return box.width > 0 && box.left >= 0 && box.right <= window.innerWidth + 1;
    }""", selector)


def scroll_to_bottom(page) -> None:
    page.evaluate("() => window.scrollTo(0, document.documentElement.scrollHeight)")


@pytest.fixture
def wide_quiz(course, bank):
    save_spec(LOSS_TABLE)
    save_spec(LONG_CODE)
    return make_quiz(course, slugs=["web-loss-table", "web-long-code", "web-pick", "web-double"])


def open_attempt(context, attempt, *, username: str = "sam", width: int = 1280, log_in_first: bool = True):
    attempt_service.attempt_questions(attempt)  # its variants generated here, as publishing does for a class
    page = context.new_page()
    page.set_viewport_size({"width": width, "height": 800})
    if log_in_first:
        log_in(page, username)
    page.goto(f"/attempts/{attempt.pk}/")
    return page


def test_the_quiz_and_result_pages_fit_a_phone_and_a_laptop_with_wide_tables_and_code_scrolling_in_place(
        context, student, wide_quiz):
    attempt = attempt_service.start_attempt(wide_quiz, student)
    page = open_attempt(context, attempt)
    wait_for_quiz(page)
    page.wait_for_function("() => document.documentElement.dataset.mathReady === 'yes'")
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 800})
        assert fits_the_screen(page), width
        cell = page.locator(".stem table td").last
        assert cell.bounding_box()["width"] > 30  # "0.412", not one character per line
        if width == 390:
            assert page.evaluate("() => { const t = document.querySelector('.stem table');"
                                 " return t.scrollWidth > t.clientWidth; }")  # the table scrolls in its box
            assert page.evaluate("() => { const p = document.querySelector('.question pre');"
                                 " return p.scrollWidth > p.clientWidth; }")  # so does the long code line

    loss = attempt.slots.get(template__slug="web-loss-table")
    attempt_service.autosave(attempt, loss.pk, "7", user=student)
    attempt_service.submit_attempt(attempt, user=student)
    page.reload()
    page.wait_for_selector("#attempt-closed-state")
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 800})
        assert fits_the_screen(page), width
        assert page.locator(".stem table td").last.bounding_box()["width"] > 30
    assert "(Asia/Baku)" in page.locator("#attempt-closed-state").inner_text()  # the zone, with the year
    assert str(clock.now().year) in page.locator("#attempt-closed-state").inner_text()


def test_the_gradebook_fits_both_widths_keeps_the_total_in_view_and_its_student_header_uncovered(
        context, course, instructor, student, other_student, bank):
    quizzes = [make_quiz(course, slugs=["web-double"], title=f"Quiz {n}") for n in range(1, 13)]
    for person in (student, other_student):
        attempt = attempt_service.start_attempt(quizzes[0], person)
        attempt_service.submit_attempt(attempt, user=person)
    page = context.new_page()
    log_in(page, "irene")
    page.goto(f"/courses/{course.pk}/gradebook/")
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 800})
        assert fits_the_screen(page), width
        if width == 390:  # the table is wider than its box: the box scrolls, the total stays at its right edge
            assert page.evaluate("() => { const w = document.querySelector('.table-wrap');"
                                 " return w.scrollWidth > w.clientWidth; }")
        assert within_the_width(page, "table.gradebook tbody td.total")
        page.evaluate("() => { document.querySelector('.table-wrap').scrollLeft = 10000; }")
        # What is drawn at the Student header's centre is that header, not a cell scrolled under it.
        assert page.evaluate("""() => {
            const header = document.querySelector('table.gradebook thead th.student');
            const box = header.getBoundingClientRect();
            const top = document.elementFromPoint(box.left + box.width / 2, box.top + box.height / 2);
            return header.contains(top);
        }"""), width
        assert within_the_width(page, "table.gradebook tbody td.total")
        page.evaluate("() => { document.querySelector('.table-wrap').scrollLeft = 0; }")


def test_when_time_runs_out_the_notice_is_on_screen_where_the_student_has_scrolled(context, student, wide_quiz):
    wide_quiz.closes_at = clock.now() + timedelta(seconds=6)  # a 30-minute limit cut short by the closing time
    wide_quiz.save(update_fields=["closes_at"])
    attempt = attempt_service.start_attempt(wide_quiz, student)
    page = context.new_page()
    page.set_viewport_size({"width": 390, "height": 700})
    log_in(page, "sam")
    held = []
    # The submit is held (then let through) so that the notice can be looked at before the page reloads.
    attempt_service.attempt_questions(attempt)
    page.route(f"**/attempts/{attempt.pk}/submit", lambda route: held.append(route))
    page.goto(f"/attempts/{attempt.pk}/")
    page.wait_for_selector("#countdown")
    scroll_to_bottom(page)
    page.wait_for_function("() => !document.getElementById('time-up-notice').hidden", timeout=20_000)
    scroll_to_bottom(page)
    assert in_viewport(page, "#time-up-notice")
    assert page.locator("#time-up-notice").get_attribute("aria-live") == "assertive"
    for _ in range(200):  # Playwright hands the held submit to the handler while the page is being waited on
        if held:
            break
        page.wait_for_timeout(50)
    for route in held:
        route.continue_()
    page.wait_for_selector("#attempt-closed-state", timeout=TIMEOUT_MS)
    assert Attempt.objects.get(pk=attempt.pk).state == Attempt.SUBMITTED


def test_when_the_connection_drops_a_notice_on_screen_says_the_answers_are_kept_on_this_device(
        context, student, wide_quiz):
    attempt = attempt_service.start_attempt(wide_quiz, student)
    double = attempt.slots.get(template__slug="web-double")
    page = open_attempt(context, attempt, width=390)
    wait_for_quiz(page)
    context.set_offline(True)
    page.locator(f"#answer-{double.pk}").fill("12")
    page.locator(f"#answer-{double.pk}").blur()
    page.wait_for_function("() => !document.getElementById('offline-notice').hidden")
    assert "kept on this device" in page.locator("#offline-notice").inner_text()
    assert "kept on this device" in page.locator("#global-save-status").inner_text()
    scroll_to_bottom(page)
    assert in_viewport(page, "#offline-notice")
    context.set_offline(False)
    page.wait_for_function("() => document.getElementById('offline-notice').hidden", timeout=40_000)
    assert Response.objects.get(slot=double).text == "12"


def test_a_second_tab_on_the_attempt_takes_over_and_the_first_says_so_and_sends_nothing(context, student,
                                                                                        wide_quiz):
    attempt = attempt_service.start_attempt(wide_quiz, student)
    double = attempt.slots.get(template__slug="web-double")
    first = open_attempt(context, attempt)
    wait_for_quiz(first)
    first.locator(f"#answer-{double.pk}").fill("8")
    first.wait_for_function("() => document.getElementById('global-save-status').textContent === 'All answers saved'")
    assert first.locator("#superseded-notice").is_hidden()

    second = open_attempt(context, attempt, log_in_first=False)  # same browser, same session: another tab
    wait_for_quiz(second)
    first.wait_for_function("() => !document.getElementById('superseded-notice').hidden")
    assert "no longer saves" in first.locator("#superseded-notice").inner_text()
    assert first.evaluate("() => document.getElementById('quiz').inert")  # nothing can be typed there
    assert second.locator("#superseded-notice").is_hidden()
    assert second.locator(f"#answer-{double.pk}").input_value() == "8"

    sent_by_first = []
    first.on("request", lambda request: sent_by_first.append(request.url) if "/save" in request.url else None)
    # Even an answer changed by script in the old tab is not sent.
    first.evaluate("""(slot) => {
        const field = document.getElementById('answer-' + slot);
        field.value = '999';
        field.dispatchEvent(new Event('input', {bubbles: true}));
        return window.dlquiz.flushAll();
    }""", double.pk)
    second.locator(f"#answer-{double.pk}").fill("16")
    second.wait_for_function("() => document.getElementById('global-save-status').textContent === 'All answers saved'")
    assert sent_by_first == []
    assert Response.objects.get(slot=double).text == "16"

    first.click("#use-this-tab")  # reloads: the first tab takes over again
    wait_for_quiz(first)
    second.wait_for_function("() => !document.getElementById('superseded-notice').hidden")
    assert first.locator("#superseded-notice").is_hidden()
    assert first.locator(f"#answer-{double.pk}").input_value() == "16"


def test_a_page_on_another_device_stops_saving_once_a_newer_page_has_saved_the_question(browser, live_server,
                                                                                       student, wide_quiz):
    attempt = attempt_service.start_attempt(wide_quiz, student)
    double = attempt.slots.get(template__slug="web-double")
    laptop = browser.new_context(base_url=live_server.url)
    phone = browser.new_context(base_url=live_server.url, viewport={"width": 390, "height": 800})
    try:
        for device in (laptop, phone):
            device.set_default_timeout(TIMEOUT_MS)
        old = open_attempt(laptop, attempt)
        wait_for_quiz(old)
        new = open_attempt(phone, attempt, width=390)  # loaded later: its saves outrank the laptop's
        wait_for_quiz(new)
        new.locator(f"#answer-{double.pk}").fill("14")
        new.wait_for_function("() => document.getElementById('global-save-status').textContent === 'All answers saved'")

        old.locator(f"#answer-{double.pk}").fill("99")
        old.locator(f"#answer-{double.pk}").blur()
        old.wait_for_function("() => !document.getElementById('superseded-notice').hidden")
        assert old.locator(f"section[data-slot='{double.pk}'] .save-status").inner_text() == "Not saved"
        assert Response.objects.get(slot=double).text == "14"
        assert new.locator("#superseded-notice").is_hidden()
    finally:
        laptop.close()
        phone.close()
