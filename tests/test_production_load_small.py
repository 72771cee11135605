"""A small class over HTTP on the production profile: gunicorn (config/gunicorn.conf.py) and a real Celery
worker on PostgreSQL + Redis, driven by locust through benchmarks/class_load.py. Two dozen students start
within a few seconds, autosave, submit; every request succeeds, every acknowledged answer is stored, and
every attempt is submitted once and fully graded. No timing is asserted (benchmarks/ measures that)."""
from __future__ import annotations

import pytest

from exams.models import Response
from tests.production_support import (assert_the_class_ran_clean, class_load_benchmark, free_port,
                                      http_class_quiz)

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]
STUDENTS = 24


def test_a_small_class_takes_a_quiz_over_http_with_no_error_and_no_lost_answer(settings, tmp_path):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    load = class_load_benchmark()
    quiz = http_class_quiz("LOAD1", per_type={"mcq": 2, "short": 2, "code": 2})
    sessions = load.prepare(quiz, STUDENTS, prefix="smallload")
    with load.serve(bind=f"127.0.0.1:{free_port()}", web_workers=2, web_threads=1, log_dir=tmp_path,
                    static_manifest=False) as url:
        result = load.drive(url, quiz.pk, sessions, start_seconds=3, autosave_seconds=8, autosave_every=2,
                            submit_seconds=2)
        load.wait_for_grading(quiz, list(result["students"]), timeout=45)
    checks = load.verify(quiz, result)

    assert_the_class_ran_clean(result, checks, STUDENTS)
    assert result["endpoints"]["autosave"]["requests"] > STUDENTS
    assert set(checks["responses_by_state"]) <= {Response.GRADED, Response.MANUAL}
    assert checks["attempts_with_pending_grades"] == 0
