"""In headless Chromium: the quiz page tells the student, next to the field and before they submit, that a saved
answer cannot be read (and why), lists it in the submit dialog, and says plainly when the server refused a save
(kept on the device, not retried until the text changes)."""
from __future__ import annotations

import pytest

from exams.models import Attempt, Response
from tests.test_browser_quiz import CHROMIUM, _db, browser, context, log_in, wait_for_quiz  # noqa: F401  (fixtures)
from tests.web_fixtures import *  # noqa: F403

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian chromium is not installed at /usr/bin/chromium"),
]

UNREADABLE = "Saved — but it can't be read:"


def open_quiz(context, course, slugs: list[str]):
    quiz = make_quiz(course, slugs=slugs)
    page = context.new_page()
    page.on("dialog", lambda dialog: dialog.accept())
    log_in(page, "sam")
    page.goto(f"/assessments/{quiz.pk}/")
    page.click("text=Start Quiz 1")
    wait_for_quiz(page)
    return page, Attempt.objects.get(assessment=quiz)


def wait_for_save_of(page, slot_pk: int, text: str) -> None:
    page.wait_for_function(
        "([slot, text]) => window.dlquiz && window.dlquiz.questions[slot].confirmed === text"
        " && !window.dlquiz.questions[slot].inFlight", arg=[str(slot_pk), text])


def test_an_unreadable_number_is_flagged_at_the_field_and_in_the_submit_dialog_until_corrected(context, course,
                                                                                             student, bank):
    page, attempt = open_quiz(context, course, ["web-double", "web-pick"])
    double = attempt.slots.get(template__slug="web-double")
    field = page.locator(f"#answer-{double.pk}")
    feedback = page.locator(f"section[data-slot='{double.pk}'] [data-format-feedback]")
    assert not feedback.is_visible()

    field.fill("abc")
    field.blur()
    wait_for_save_of(page, double.pk, "abc")
    assert feedback.is_visible()
    assert feedback.inner_text().startswith(UNREADABLE) and "not a number" in feedback.inner_text()
    assert feedback.get_attribute("aria-live") == "polite"
    assert field.get_attribute("aria-describedby") == feedback.get_attribute("id")
    assert Response.objects.get(slot=double).text == "abc"  # saved all the same

    page.reload()
    wait_for_quiz(page)
    assert feedback.inner_text().startswith(UNREADABLE)  # from the server, on load

    page.click("#submit-button")
    dialog = page.locator("#submit-dialog")
    assert dialog.is_visible()
    listed = dialog.locator("[data-unreadable]")
    assert listed.is_visible()
    assert f"Question {double.position} can't be read:" in listed.inner_text()
    assert "not a number" in listed.inner_text()
    dialog.locator("[data-cancel]").click()

    field.fill("0.25")
    field.blur()
    wait_for_save_of(page, double.pk, "0.25")
    assert not feedback.is_visible() and feedback.inner_text() == ""
    assert page.locator(f"section[data-slot='{double.pk}'] .save-status").inner_text() == "Saved"

    page.click("#submit-button")
    assert dialog.is_visible()
    assert not dialog.locator("[data-unreadable]").is_visible()
    dialog.locator("[data-cancel]").click()


def test_a_refused_save_is_shown_plainly_kept_on_the_device_and_not_sent_again(context, course, student, bank):
    page, attempt = open_quiz(context, course, ["web-double", "web-pick"])
    double = attempt.slots.get(template__slug="web-double")
    saves: list[str] = []
    page.on("request", lambda request: saves.append(request.url) if request.url.endswith("/save") else None)
    feedback = page.locator(f"section[data-slot='{double.pk}'] [data-format-feedback]")

    # Half of an emoji, as a length limit can leave it: the server refuses it with a 400.
    page.evaluate("""(id) => { const field = document.getElementById(id); field.value = '0.25 \\ud83d';
                               field.dispatchEvent(new Event('input', {bubbles: true}));
                               field.dispatchEvent(new Event('focusout', {bubbles: true})); }""", f"answer-{double.pk}")
    page.wait_for_function("(slot) => window.dlquiz.questions[slot].state === 'error'", arg=str(double.pk))
    text = feedback.inner_text()
    assert text.startswith("This answer was not saved: ") and "broken character" in text
    assert text.endswith("It is kept on this device.")
    stored = page.evaluate(f"localStorage.getItem('dlquiz:attempt:{attempt.pk}:slot:{double.pk}')")
    assert "0.25" in stored

    page.evaluate("window.dispatchEvent(new Event('online'))")  # what makes the page retry failed saves
    page.evaluate("window.dlquiz.flushAll()")
    page.wait_for_timeout(1500)
    assert len(saves) == 1
    assert Response.objects.get(slot=double).text == ""

    field = page.locator(f"#answer-{double.pk}")
    field.fill("0.25")
    field.blur()
    wait_for_save_of(page, double.pk, "0.25")
    assert feedback.inner_text() == ""
    assert Response.objects.get(slot=double).text == "0.25"
