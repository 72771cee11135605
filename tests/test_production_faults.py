"""Faults a real class meets, survived: a Celery worker killed while it grades, the database dropping the
application's connections mid-load, the broker (Redis) away for a while.

Production lane: PostgreSQL, real `celery worker` processes grading through the sandbox, a redis-server of the
test's own (stopped and started again here; the machine's Redis on 6379 is never touched).
"""
from __future__ import annotations

import threading
import time
from datetime import timedelta

import psycopg
import pytest
from django.db import Error as DatabaseError, close_old_connections, connection
from django.urls import reverse

from exams import attempts
from exams.models import Attempt, Course, Response
from exams.tasks import redispatch_stalled_grading
from quizbank import services as bank
from tests.exams_personas import T0, fast_passwords, frozen_clock, make_assessment, spec_for
from tests.production_support import (CeleryWorker, RedisServer, publishing_to, published_quiz, run_at_once,
                                      started_students, wait_for)
from tests.specs import COMPLETION, SOFTMAX_SHORT

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]
__all__ = ["fast_passwords", "frozen_clock"]

# GRADING_STALE_CLAIM_SECONDS for these tests: a dead worker's claim is stale after 8 s (well above one
# answer's grading here, so a live worker's claim is not taken over while it works).
STALE_SECONDS = 8
# Correct, and slow enough (each test call sleeps) that a worker is caught in the middle of grading it.
SLOW_RELU = 'return __import__("time").sleep(0.4) or torch.clamp(x, min=0)'


@pytest.fixture
def redis_server():
    server = RedisServer()
    server.start()
    yield server
    server.stop()


@pytest.fixture
def short_stale_claims(settings):
    settings.GRADING_STALE_CLAIM_SECONDS = STALE_SECONDS


def submitted_code_answers(code: str, count: int, answer: str = SLOW_RELU) -> list[int]:
    quiz = published_quiz(code, [COMPLETION])
    ids = []
    for student, attempt in started_students(quiz, count):
        slot = attempt.slots.get()
        attempts.autosave(attempt, slot.pk, answer, user=student)
        attempts.submit_attempt(attempt, user=student)
        ids.append(Response.objects.get(slot=slot).pk)
    return ids


def sweep_until_graded(response_ids: list[int], timeout: float = 120) -> None:
    """What beat does every minute, every two seconds here: re-send stale and waiting grading."""
    def all_graded() -> bool:
        if Response.objects.filter(pk__in=response_ids, grading_state=Response.GRADED).count() == len(response_ids):
            return True
        redispatch_stalled_grading()
        return False
    wait_for(all_graded, timeout=timeout, interval=2.0)


def test_a_worker_killed_while_grading_leaves_every_answer_graded_exactly_once_after_a_restart(
        redis_server, short_stale_claims, tmp_path, fast_passwords):
    worker = CeleryWorker("killed", redis_server.url, tmp_path, GRADING_STALE_CLAIM_SECONDS=str(STALE_SECONDS))
    with publishing_to(redis_server.url):
        worker.start()
        try:
            response_ids = submitted_code_answers("KILL", 6)
            wait_for(lambda: Response.objects.filter(pk__in=response_ids, grading_state=Response.GRADING).exists(),
                     interval=0.05)
            worker.kill()
            interrupted = Response.objects.filter(pk__in=response_ids, grading_state=Response.GRADING).count()
            restarted = CeleryWorker("restarted", redis_server.url, tmp_path,
                                     GRADING_STALE_CLAIM_SECONDS=str(STALE_SECONDS)).start()
            try:
                sweep_until_graded(response_ids)
            finally:
                restarted.stop()
        finally:
            worker.stop()

    assert interrupted >= 1, "the kill came while an answer was being graded"
    graded = Response.objects.filter(pk__in=response_ids)
    assert set(graded.values_list("grading_state", "score")) == {(Response.GRADED, 1.0)}
    stored = sorted(worker.graded_ids() + restarted.graded_ids())
    assert stored == sorted(response_ids), "each answer's grade stored once, by one worker"
    assert set(Attempt.objects.filter(responses__pk__in=response_ids).values_list("pending_count", flat=True)) == {0}


def test_dropped_database_connections_fail_a_few_requests_and_leave_nothing_half_written(
        fast_passwords, frozen_clock):
    """Each thread behaves as a web worker serving one student's requests: Django's request_started and
    request_finished both call close_old_connections (CONN_HEALTH_CHECKS), which is what makes the next
    request reconnect after PostgreSQL terminated the connection."""
    for spec in (spec_for("drop-mcq", "mcq", "mcq"), spec_for("drop-short", "short", "short")):
        bank.save_spec(spec)
    quiz = make_assessment(Course.objects.create(code="DROP", title="Dropped connections"),
                           blueprint=[{"templates": ["drop-mcq", "drop-short"]}])
    students = started_students(quiz, 12, now=T0)
    at = T0 + timedelta(minutes=5)
    killing_done = threading.Event()
    acked: dict[int, int] = {}  # slot id -> the highest client_seq the server acknowledged
    failed_requests: list[str] = []
    victim_count: list[int] = []

    def request(action):
        close_old_connections()
        try:
            return action()
        finally:
            close_old_connections()

    def student_session(student, attempt, submit_early: bool):
        slot_ids = list(attempt.slots.order_by("position").values_list("pk", flat=True))
        seq = 0
        submitted = False

        def save() -> None:
            nonlocal seq
            seq += 1
            slot_id, mine = slot_ids[seq % 2], seq
            request(lambda: attempts.autosave(attempt, slot_id, str(mine), user=student, client_seq=mine, now=at))
            acked[slot_id] = max(acked.get(slot_id, 0), mine)

        while not killing_done.is_set():  # the outage: any request may fail
            try:
                if submit_early and seq >= 4 and not submitted:
                    request(lambda: attempts.submit_attempt(attempt, user=student, now=at))
                    submitted = True
                elif not submitted:
                    save()
            except DatabaseError as error:  # the 500 the student's browser retries
                failed_requests.append(type(error).__name__)
            time.sleep(0.01)
        # After it: the very next requests must succeed (no retry). A submit whose reply was lost (the
        # connection dropped after its COMMIT) is found submitted, as the reloading page finds it.
        if not submitted:
            request(attempt.refresh_from_db)
            if attempt.state != Attempt.SUBMITTED:
                save()
                request(lambda: attempts.submit_attempt(attempt, user=student, now=at))

    with connection.cursor() as cursor:  # the test's own connection is spared: it checks the outcome
        cursor.execute("SELECT pg_backend_pid()")
        main_pid = cursor.fetchone()[0]
    database = connection.settings_dict["NAME"]

    def killer() -> None:
        with psycopg.connect(host="127.0.0.1", user="postgres", dbname="postgres", autocommit=True) as admin:
            for _ in range(4):
                time.sleep(0.15)
                victims = admin.execute(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s AND pid <> %s "
                    "AND pid <> pg_backend_pid()", [database, main_pid]).fetchall()
                victim_count.append(len(victims))
        killing_done.set()

    errors = run_at_once([killer] + [lambda s=s, a=a, i=i: student_session(s, a, i % 2 == 0)
                                     for i, (s, a) in enumerate(students)])

    assert errors == []
    assert sum(victim_count) > 0 and failed_requests, "connections were dropped under load"
    for _, attempt in students:
        attempt.refresh_from_db()
        assert attempt.state == Attempt.SUBMITTED
        responses = list(attempt.responses.all())
        assert {r.grading_state for r in responses} == {Response.GRADED}
        assert attempt.score == pytest.approx(sum(r.score for r in responses) / len(responses))
        for response in responses:  # every acknowledged save is stored (a later unacknowledged one may be too)
            assert response.client_seq >= acked.get(response.slot_id, 0)
            assert response.text == (str(response.client_seq) if response.client_seq else "")


def test_redis_away_autosave_and_submit_still_work_and_grading_resumes_when_it_is_back(
        redis_server, short_stale_claims, tmp_path, client, fast_passwords, settings):
    quiz = published_quiz("NOREDIS", [COMPLETION, SOFTMAX_SHORT])
    (student, attempt), = started_students(quiz, 1)
    slots = {slot.qtype: slot for slot in attempt.slots.all()}
    client.force_login(student)
    worker = CeleryWorker("outage", redis_server.url, tmp_path, GRADING_STALE_CLAIM_SECONDS=str(STALE_SECONDS))
    with publishing_to(redis_server.url):
        worker.start()
        try:
            redis_server.stop()  # the broker (and a Redis cache) away
            settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache",
                                           "LOCATION": redis_server.url}}
            autosave_url = reverse("exams:autosave", kwargs={"attempt_id": attempt.pk})
            for qtype, text in (("code", "return torch.clamp(x, min=0)"), ("short", "0.5")):
                saved = client.post(autosave_url, {"slot": slots[qtype].pk, "response": text, "seq": 1},
                                    content_type="application/json")
                assert saved.status_code == 200, saved.content
            submitted = client.post(reverse("exams:submit_attempt", kwargs={"attempt_id": attempt.pk}))
            assert submitted.status_code == 302
            code = Response.objects.get(slot=slots["code"])
            assert code.grading_state == Response.QUEUED  # waiting for the broker, not lost
            assert Attempt.objects.get(pk=attempt.pk).state == Attempt.SUBMITTED

            redis_server.start()  # back on the same port: the worker reconnects, the sweep re-sends
            sweep_until_graded([code.pk])
        finally:
            worker.stop()
    code.refresh_from_db()
    assert code.score == 1.0
    assert worker.graded_ids() == [code.pk]
