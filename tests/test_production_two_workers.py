"""Two Celery worker processes consuming the grading queue share the work and never grade an answer twice.

Production lane: PostgreSQL, a redis-server of the test's own, two real `celery worker` processes, each with
its own sandbox pool; which worker stored each grade is read from the workers' logs (exams.tasks logs it).
"""
from __future__ import annotations

import pytest

from exams import attempts
from exams.models import Response
from tests.exams_personas import fast_passwords
from tests.production_support import (CeleryWorker, RedisServer, publishing_to, published_quiz, started_students,
                                      wait_for)
from tests.specs import COMPLETION

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]
__all__ = ["fast_passwords"]

ANSWERS = 20
RIGHT, WRONG = "return torch.clamp(x, min=0)", "return x.abs()"


@pytest.fixture
def redis_server():
    server = RedisServer()
    server.start()
    yield server
    server.stop()


def test_two_workers_share_the_grading_queue_and_grade_each_answer_once(redis_server, tmp_path, fast_passwords):
    quiz = published_quiz("TWO", [COMPLETION])
    class_ = started_students(quiz, ANSWERS)
    workers = [CeleryWorker(name, redis_server.url, tmp_path) for name in ("first", "second")]
    with publishing_to(redis_server.url):
        try:
            for worker in workers:
                worker.start()
            response_ids = []
            for i, (student, attempt) in enumerate(class_):
                slot = attempt.slots.get()
                attempts.autosave(attempt, slot.pk, RIGHT if i % 2 else WRONG, user=student)
                attempts.submit_attempt(attempt, user=student)
                response_ids.append(Response.objects.get(slot=slot).pk)
            wait_for(lambda: Response.objects.filter(pk__in=response_ids, grading_state=Response.GRADED).count()
                     == ANSWERS, timeout=240, interval=0.5)
        finally:
            for worker in workers:
                worker.stop()

    first, second = (worker.graded_ids() for worker in workers)
    assert sorted(first + second) == sorted(response_ids), "every answer's grade stored exactly once"
    assert first and second, "both workers graded some"
    scores = dict(Response.objects.filter(pk__in=response_ids).values_list("pk", "score"))
    assert [scores[pk] for pk in response_ids[1::2]] == [1.0] * (ANSWERS // 2)
    assert all(0.0 < scores[pk] < 1.0 for pk in response_ids[::2])
