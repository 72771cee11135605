"""Autosave requests that are odd, broken or hostile get a 4xx JSON answer with a message, never a 500, and
nothing already saved changes. Runs on SQLite in lane 1 and on PostgreSQL in lane 2 (which is where a NUL or a
lone surrogate would fail inside the database driver if it got that far)."""
from __future__ import annotations

import json

import pytest
from django.conf import settings

from exams.models import Attempt, Response
from tests.web_fixtures import *  # noqa: F403


@pytest.fixture
def client_and_attempt(course, bank, student):
    quiz = make_quiz(course, slugs=["web-double"])
    client = logged_in(student)
    response = client.post(f"/assessments/{quiz.pk}/start")
    assert response.status_code == 302
    attempt = Attempt.objects.get(student=student)
    slot = attempt.slots.get()
    assert client.post(f"/attempts/{attempt.pk}/save", data=json.dumps({"slot": slot.pk, "response": "14"}),
                       content_type="application/json").status_code == 200
    return client, attempt, slot


def post_raw(client, attempt, body: bytes | str):
    return client.post(f"/attempts/{attempt.pk}/save", data=body, content_type="application/json")


def assert_refused_as_json(reply, status: int, *, mentions: str) -> None:
    assert reply.status_code == status, reply.content[:300]
    assert reply["Content-Type"].startswith("application/json")
    data = reply.json()
    assert data["ok"] is False and mentions.lower() in data["error"].lower(), data


def assert_saved_answer_unchanged(slot) -> None:
    assert Response.objects.get(slot=slot).text == "14"


def test_a_lone_surrogate_from_a_broken_emoji_is_refused_with_a_message(client_and_attempt):
    client, attempt, slot = client_and_attempt
    body = '{"slot": %d, "response": "smile \\ud83d"}' % slot.pk  # json.loads accepts it; no database can store it
    assert_refused_as_json(post_raw(client, attempt, body), 400, mentions="broken character")
    assert_saved_answer_unchanged(slot)


def test_a_whole_emoji_sent_as_a_surrogate_pair_round_trips(client_and_attempt):
    client, attempt, slot = client_and_attempt
    body = '{"slot": %d, "response": "smile \\ud83d\\ude00"}' % slot.pk
    assert post_raw(client, attempt, body).status_code == 200
    assert Response.objects.get(slot=slot).text == "smile \U0001F600"


def test_a_nul_byte_in_the_answer_is_refused_rather_than_silently_stripped(client_and_attempt):
    client, attempt, slot = client_and_attempt
    reply = post_raw(client, attempt, json.dumps({"slot": slot.pk, "response": "0.25\x00"}))
    assert_refused_as_json(reply, 400, mentions="NUL character")
    assert_saved_answer_unchanged(slot)


def test_deeply_nested_json_is_refused_as_invalid_json(client_and_attempt):
    client, attempt, slot = client_and_attempt
    assert_refused_as_json(post_raw(client, attempt, "[" * 100_000), 400, mentions="not valid JSON")
    assert_refused_as_json(post_raw(client, attempt, '{"slot": %d, "response": %s}' % (slot.pk, "[" * 100_000)),
                           400, mentions="not valid JSON")
    assert_saved_answer_unchanged(slot)


def test_a_slot_id_with_thousands_of_digits_is_refused(client_and_attempt):
    client, attempt, slot = client_and_attempt
    reply = post_raw(client, attempt, '{"slot": %s, "response": "x"}' % ("9" * 5000))
    assert_refused_as_json(reply, 400, mentions="not valid JSON")
    reply = post_raw(client, attempt, '{"slot": %d, "response": "x", "seq": %s}' % (slot.pk, "7" * 5000))
    assert_refused_as_json(reply, 400, mentions="not valid JSON")
    assert_saved_answer_unchanged(slot)


def test_the_largest_bigint_slot_id_is_simply_not_found(client_and_attempt):
    client, attempt, slot = client_and_attempt
    reply = post_raw(client, attempt, json.dumps({"slot": 2**63 - 1, "response": "x"}))
    assert_refused_as_json(reply, 404, mentions="not found")
    assert_refused_as_json(post_raw(client, attempt, json.dumps({"slot": 2**63, "response": "x"})),
                           400, mentions="slot")


def test_a_body_over_the_upload_cap_is_413_json(client_and_attempt):
    client, attempt, slot = client_and_attempt
    huge = json.dumps({"slot": slot.pk, "response": "x" * (settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 10)})
    assert_refused_as_json(post_raw(client, attempt, huge), 413, mentions="too large")
    assert_saved_answer_unchanged(slot)


def test_bytes_that_are_not_utf8_are_refused(client_and_attempt):
    client, attempt, slot = client_and_attempt
    body = b'{"slot": %d, "response": "caf\xe9"}' % slot.pk  # Latin-1
    assert_refused_as_json(post_raw(client, attempt, body), 400, mentions="UTF-8")
    assert_saved_answer_unchanged(slot)


@pytest.mark.parametrize("body", ["[1, 2]", "42", '"0.25"', "null", "true"])
def test_json_that_is_not_an_object_is_refused(client_and_attempt, body):
    client, attempt, slot = client_and_attempt
    assert_refused_as_json(post_raw(client, attempt, body), 400, mentions="not a JSON object")
    assert_saved_answer_unchanged(slot)


def test_nan_and_infinity_are_not_slot_ids(client_and_attempt):
    client, attempt, slot = client_and_attempt
    for literal in ("NaN", "Infinity", "1e999", "3.0"):
        reply = post_raw(client, attempt, '{"slot": %s, "response": "x"}' % literal)
        assert_refused_as_json(reply, 400, mentions="slot")
    assert_saved_answer_unchanged(slot)


def test_an_attempt_that_does_not_exist_is_a_json_404(client_and_attempt):
    client, attempt, slot = client_and_attempt
    reply = client.post("/attempts/999999999/save", data=json.dumps({"slot": slot.pk, "response": "x"}),
                        content_type="application/json")
    assert_refused_as_json(reply, 404, mentions="not found")


def test_someone_elses_attempt_is_a_json_404_and_their_answer_is_untouched(client_and_attempt, other_student):
    _, attempt, slot = client_and_attempt
    reply = post_raw(logged_in(other_student), attempt, json.dumps({"slot": slot.pk, "response": "hijack"}))
    assert_refused_as_json(reply, 404, mentions="not found")
    assert_saved_answer_unchanged(slot)


def test_after_a_refused_save_the_next_good_save_goes_through(client_and_attempt):
    client, attempt, slot = client_and_attempt
    assert post_raw(client, attempt, json.dumps({"slot": slot.pk, "response": "bad\x00"})).status_code == 400
    assert post_raw(client, attempt, json.dumps({"slot": slot.pk, "response": "0.25"})).status_code == 200
    assert Response.objects.get(slot=slot).text == "0.25"
