"""Each autosave reply says whether the saved text can be read (a number, an option, code that parses), judged
from the public variant and the answer format alone: it must never hint at correctness, and the answer key is
never read to decide it. The quiz page shows the same verdict for saved answers when it loads."""
from __future__ import annotations

import json

from django.db import connection
from django.test.utils import CaptureQueriesContext

from exams.models import Attempt
from quizbank.checking import format_verdict
from quizbank.models import Variant
from quizbank.services import save_spec, variant_for
from tests.exams_personas import runner_calls  # noqa: F401  (fixture)
from tests.web_fixtures import *  # noqa: F403


def start(client, quiz) -> Attempt:
    response = client.post(f"/assessments/{quiz.pk}/start")
    assert response.status_code == 302, response.content
    assert client.get(response["Location"]).status_code == 200  # the quiz page caches the variants, as in use
    return Attempt.objects.get(pk=int(response["Location"].rstrip("/").split("/")[-1]))


def save(client, attempt, slot, text: str) -> dict:
    reply = client.post(f"/attempts/{attempt.pk}/save", data=json.dumps({"slot": slot.pk, "response": text}),
                        content_type="application/json")
    assert reply.status_code == 200, reply.content
    return reply.json()


def checker_says(slot, text: str) -> dict:
    verdict = format_verdict(variant_for(slot.template_version, slot.seed).public,
                             (slot.template_version.spec or {}).get("answer") or {}, text)
    return {"valid": verdict.valid, "message": verdict.message}


def test_an_unreadable_number_is_saved_and_the_reply_carries_the_checkers_message(quiz, student):
    client = logged_in(student)
    attempt = start(client, quiz)
    slot = attempt.slots.get(template__slug="web-double")
    reply = save(client, attempt, slot, "abc")
    assert reply["ok"] is True
    assert reply["format"]["valid"] is False
    assert reply["format"] == checker_says(slot, "abc")
    assert "not a number" in reply["format"]["message"]


def test_a_corrected_number_and_an_empty_answer_are_readable(quiz, student):
    client = logged_in(student)
    attempt = start(client, quiz)
    slot = attempt.slots.get(template__slug="web-double")
    save(client, attempt, slot, "abc")
    assert save(client, attempt, slot, "0.25")["format"] == {"valid": True, "message": ""}
    assert save(client, attempt, slot, "")["format"] == {"valid": True, "message": ""}


def test_a_right_and_a_wrong_readable_answer_get_the_same_reply(quiz, student):
    client = logged_in(student)
    attempt = start(client, quiz)
    slot = attempt.slots.get(template__slug="web-double")
    right = str(Variant.objects.get(version=slot.template_version, seed=slot.seed).key["answer"])
    wrong = save(client, attempt, slot, "123456")
    correct = save(client, attempt, slot, right)
    assert wrong["format"] == correct["format"] == {"valid": True, "message": ""}
    assert set(wrong) == set(correct)


def test_autosave_never_selects_the_answer_key_column(quiz, student):
    client = logged_in(student)
    attempt = start(client, quiz)
    slot = attempt.slots.get(template__slug="web-double")
    with CaptureQueriesContext(connection) as queries:
        reply = save(client, attempt, slot, "abc")
    assert reply["format"]["valid"] is False  # the verdict was computed from the cached public part
    key_column = connection.ops.quote_name("key")
    assert not [q["sql"] for q in queries if key_column in q["sql"]]


def test_without_a_cached_variant_the_save_gives_no_verdict_and_runs_nothing(quiz, student, runner_calls):  # noqa: F811
    client = logged_in(student)
    attempt = start(client, quiz)
    slot = attempt.slots.get(template__slug="web-double")
    Variant.objects.filter(version=slot.template_version, seed=slot.seed).delete()
    runner_calls.clear()
    reply = save(client, attempt, slot, "abc")
    assert reply["format"] == {"valid": True, "message": ""}
    assert runner_calls == []


def test_every_kind_of_question_gets_the_checkers_verdict(course, student):
    save_spec(SQUARE_COMPLETION)
    for spec in (DOUBLE_SHORT, PICK_MCQ, EXPLAIN_MANUAL, PRINT_OUTPUT):
        save_spec(spec)
    quiz = make_quiz(course, slugs=["web-pick", "web-explain", "web-print", "web-square"])
    client = logged_in(student)
    attempt = start(client, quiz)
    answers = {
        "web-pick": ["7", "1"],
        "web-explain": ["word " * 400, "It keeps the expected value."],
        "web-print": ["12\n"],
        "web-square": ["return x *\n", "return x * x\n"],
    }
    for slug, texts in answers.items():
        slot = attempt.slots.get(template__slug=slug)
        for text in texts:
            assert save(client, attempt, slot, text)["format"] == checker_says(slot, text), (slug, text)
    pick = attempt.slots.get(template__slug="web-pick")
    assert save(client, attempt, pick, "7")["format"]["valid"] is False  # option 7 of 4 cannot be read


def test_the_quiz_page_shows_the_verdict_of_saved_answers_when_it_loads(quiz, student):
    client = logged_in(student)
    attempt = start(client, quiz)
    double = attempt.slots.get(template__slug="web-double")
    message = save(client, attempt, double, "abc")["format"]["message"]
    page = client.get(f"/attempts/{attempt.pk}/").content.decode()
    assert "Saved — but it can't be read: " in page
    assert page.count('data-format-valid="false"') == 1
    assert message.replace("'", "&#x27;") in page

    save(client, attempt, double, "0.25")
    page = client.get(f"/attempts/{attempt.pk}/").content.decode()
    assert "can't be read" not in page.split('id="submit-dialog"')[0]
    assert 'data-format-valid="false"' not in page
