"""A web worker killed with SIGKILL while a class autosaves loses no acknowledged answer: gunicorn starts a
new worker, the requests that were in flight fail, the page sends them again (as static/js/quiz.js does, with
the same text and a higher seq), and every answer the server said "ok" to is in the database when the class
submits. Production profile: gunicorn + a real Celery worker on PostgreSQL + Redis, locust as the class; once
with gunicorn alone, once behind nginx (scripts/prod.sh's layout), where the worker killed is one of the saves
pool's and nginx answers 502 for the requests it was serving."""
from __future__ import annotations

import os
import signal
import threading
import time
from pathlib import Path

import shutil

import pytest
from django.db import connection

from exams.models import Assessment, Attempt
from tests.production_support import class_load_benchmark, free_port, http_class_quiz

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]
STUDENTS = 16


def _children(pid: int) -> list[int]:
    children = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                children.append(int(entry.name))
    return sorted(children)


def _wait_until_every_student_autosaves(quiz: Assessment, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        saving = Attempt.objects.filter(assessment=quiz, responses__save_count__gt=0).distinct().count()
        if saving == STUDENTS:
            return True
        time.sleep(0.2)
    return False


@pytest.mark.parametrize("behind_proxy", [
    False, pytest.param(True, marks=pytest.mark.skipif(shutil.which("nginx") is None, reason="nginx not installed"))])
def test_killing_a_web_worker_mid_autosave_loses_no_acknowledged_answer(settings, tmp_path, behind_proxy):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    load = class_load_benchmark()
    quiz = http_class_quiz(f"KILLWEB{int(behind_proxy)}", per_type={"mcq": 1, "short": 2, "code": 1})
    sessions = load.prepare(quiz, STUDENTS, prefix=f"killweb{int(behind_proxy)}")
    killed: list[int] = []

    def kill_workers_during_the_autosaves(master: int) -> None:
        # Killing by the clock hit a start or quiz page on a slow machine (gunicorn alone serves those too):
        # wait until every student has an answer saved, so only autosaves are in flight.
        try:
            autosaving = _wait_until_every_student_autosaves(quiz, timeout=60)
        finally:
            connection.close()
        if not autosaving:  # nothing is killed, and the test fails on `killed` below
            return
        for delay in (0.5, 4.0):  # into the autosave phase, then again once the replacement serves
            time.sleep(delay)
            workers = _children(master)
            if workers:
                os.kill(workers[0], signal.SIGKILL)
                killed.append(workers[0])

    with load.serve(bind=f"127.0.0.1:{free_port()}", web_workers=2, web_threads=1, log_dir=tmp_path,
                    static_manifest=False, proxy=behind_proxy, saves_workers=2) as url:
        saving_pool = load.SERVED["saves" if behind_proxy else "web"]
        killer = threading.Thread(target=kill_workers_during_the_autosaves, args=(saving_pool,), daemon=True)
        killer.start()
        result = load.drive(url, quiz.pk, sessions, start_seconds=2, autosave_seconds=14, autosave_every=1,
                            submit_seconds=2)
        killer.join(timeout=30)
        workers_after = _children(saving_pool)
        load.wait_for_grading(quiz, list(result["students"]), timeout=60)
    checks = load.verify(quiz, result)

    assert len(killed) == 2 and not set(killed) & set(workers_after) and len(workers_after) == 2
    assert checks["acked_answers"] == STUDENTS * 4 and checks["lost_answers"] == 0  # every slot saved, none lost
    assert checks["attempts"] == checks["submitted"] == checks["submits_acknowledged"] == STUDENTS
    assert checks["students_with_two_attempts"] == 0
    # Only saves can have failed (the kills happen in the autosave phase), and each was sent again.
    failed = {name for name, endpoint in result["endpoints"].items() if endpoint["failures"]}
    assert failed <= {"autosave"}
