"""A small class over HTTP through scripts/prod.sh's layout: nginx in front of a pages pool and a saves pool
(config/proxy.py), a real Celery worker, PostgreSQL + Redis, driven by locust through benchmarks/class_load.py.
Every request succeeds and every acknowledged answer is stored; the pools' access logs show that every save
went to the saves pool and that no static file reached Python. No timing is asserted (benchmarks/ measures it)."""
from __future__ import annotations

import shutil

import pytest

from exams.models import Response
from tests.production_support import (assert_the_class_ran_clean, class_load_benchmark, free_port,
                                      http_class_quiz)

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True),
              pytest.mark.skipif(shutil.which("nginx") is None, reason="nginx is not installed (scripts/setup.sh)")]
STUDENTS = 16


def test_a_small_class_through_the_proxy_saves_on_the_saves_pool_and_never_sends_a_static_file_to_python(
        settings, tmp_path):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    load = class_load_benchmark()
    quiz = http_class_quiz("PROXY1", per_type={"mcq": 1, "short": 2, "code": 1})
    sessions = load.prepare(quiz, STUDENTS, prefix="proxyload")
    with load.serve(bind=f"127.0.0.1:{free_port()}", web_workers=2, web_threads=1, log_dir=tmp_path,
                    static_manifest=False, proxy=True, saves_workers=1) as url:
        result = load.drive(url, quiz.pk, sessions, start_seconds=2, autosave_seconds=6, autosave_every=2,
                            submit_seconds=2)
        load.wait_for_grading(quiz, list(result["students"]), timeout=45)
    checks = load.verify(quiz, result)

    assert_the_class_ran_clean(result, checks, STUDENTS)
    assert result["endpoints"]["static file"]["requests"] >= STUDENTS
    assert set(checks["responses_by_state"]) <= {Response.GRADED, Response.MANUAL}

    saves_log = (tmp_path / "gunicorn-saves-access.log").read_text().splitlines()
    pages_log = (tmp_path / "gunicorn-access.log").read_text().splitlines()
    saves_answered = [line for line in saves_log if "/save " in line]
    assert len(saves_answered) == result["endpoints"]["autosave"]["requests"]
    assert not [line for line in saves_log if "/save " not in line and "/state " not in line]
    assert not [line for line in pages_log if "/save " in line or "/static/" in line]
    assert sum(1 for line in pages_log if "/submit " in line) == STUDENTS
