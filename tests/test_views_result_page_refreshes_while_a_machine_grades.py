"""After release, a results page with answers the runner (or a worker making their variant) is still grading
looks again by itself: after 5 s, then twice as long each time up to a minute, and it stops after twelve
rounds, so a stopped worker never has a class reloading every few seconds. Answers waiting for a person do
not refresh the page (they may wait for days), and nothing refreshes before results are released."""
from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.test import Client

from exams import attempts, clock
from exams.grading import refresh_attempt_score
from exams.models import Assessment, Attempt, Response
from tests.exams_personas import build_bank, classroom, fast_passwords, make_assessment  # noqa: F401

MARKER = re.compile(r'id="grading-pending" data-reload-after-ms="(\d+)" data-reload-url="\?refresh=(\d+)"')


@pytest.fixture
def submitted(classroom) -> tuple[Client, Attempt]:
    now = clock.now()
    build_bank(mcq=1, short=1, code=0)
    quiz = make_assessment(classroom.course, "Refreshing", blueprint=[{"templates": ["t-mcq-0", "t-short-0"]}],
                           opens_at=now - timedelta(hours=1), closes_at=now + timedelta(days=1),
                           results_released_at=now - timedelta(minutes=1))
    attempt = attempts.submit_attempt(attempts.start_attempt(quiz, classroom.student), user=classroom.student)
    client = Client()
    client.force_login(classroom.student)
    return client, attempt


def _waiting(attempt: Attempt, state: str) -> None:
    Response.objects.filter(pk=attempt.responses.order_by("pk")[0].pk).update(grading_state=state, score=None)
    refresh_attempt_score(attempt.pk)


def _marker(client: Client, attempt: Attempt, query: str = "") -> tuple[int, int] | None:
    page = client.get(f"/attempts/{attempt.pk}/{query}")
    assert page.status_code == 200
    found = MARKER.search(page.content.decode())
    return (int(found.group(1)), int(found.group(2))) if found else None


def test_a_page_with_code_being_graded_looks_again_after_five_seconds_then_less_often(submitted):
    client, attempt = submitted
    _waiting(attempt, Response.QUEUED)
    assert _marker(client, attempt) == (5_000, 1)
    assert _marker(client, attempt, "?refresh=1") == (10_000, 2)
    assert _marker(client, attempt, "?refresh=3") == (40_000, 4)
    assert _marker(client, attempt, "?refresh=6") == (60_000, 7)
    assert _marker(client, attempt, "?refresh=not-a-number") == (5_000, 1)


def test_the_refreshing_stops_after_twelve_rounds(submitted):
    client, attempt = submitted
    _waiting(attempt, Response.GRADING)
    assert _marker(client, attempt, "?refresh=11") == (60_000, 12)
    assert _marker(client, attempt, "?refresh=12") is None
    assert _marker(client, attempt, "?refresh=999") is None


def test_an_answer_waiting_for_a_person_does_not_refresh_the_page(submitted):
    client, attempt = submitted
    _waiting(attempt, Response.MANUAL)
    page = client.get(f"/attempts/{attempt.pk}/").content.decode()
    assert "1 answer still being graded" in page and "data-reload-after-ms" not in page


def test_nothing_refreshes_before_results_are_released(submitted):
    client, attempt = submitted
    _waiting(attempt, Response.QUEUED)
    Assessment.objects.filter(pk=attempt.assessment_id).update(results_released_at=None)
    assert "data-reload-after-ms" not in client.get(f"/attempts/{attempt.pk}/").content.decode()
