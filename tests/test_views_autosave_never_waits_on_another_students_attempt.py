"""PostgreSQL lane: a save sent to someone else's attempt is refused without touching that attempt's row
lock, so however often a hostile student sends them they never hold up the owner's saves or submit; and
while the owner's attempt is locked (their submit is grading), the intruder gets a 404 at once instead of
queueing behind it."""
from __future__ import annotations

import json
import threading
from datetime import timedelta

import pytest
from django.db import connection, connections, transaction
from django.test import Client

from exams import attempts, clock
from exams.models import Attempt, Response
from tests.exams_personas import build_bank, build_classroom, fast_passwords, make_assessment  # noqa: F401

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_a_save_to_another_students_attempt_is_refused_while_the_owner_holds_its_lock(fast_passwords):
    classroom = build_classroom("NOWAIT")
    build_bank(mcq=1, short=0, code=0)
    now = clock.now()
    quiz = make_assessment(classroom.course, "No waiting", blueprint=[{"templates": ["t-mcq-0"]}],
                           opens_at=now - timedelta(hours=1), closes_at=now + timedelta(days=1))
    victim = attempts.start_attempt(quiz, classroom.other_student)
    slot = victim.slots.get()
    locked, release = threading.Event(), threading.Event()

    def owner_submitting() -> None:  # holds the attempt's row lock, as a submit does while it grades
        try:
            with transaction.atomic():
                list(Attempt.objects.select_for_update().filter(pk=victim.pk))
                locked.set()
                release.wait(30)
        finally:
            connections.close_all()

    holder = threading.Thread(target=owner_submitting)
    holder.start()
    try:
        assert locked.wait(10)
        intruder = Client()
        intruder.force_login(classroom.student)
        with connection.cursor() as cursor:
            cursor.execute("SET lock_timeout = '2s'")  # waiting on the lock would fail this request, not pass it
        answer = intruder.post(f"/attempts/{victim.pk}/save", content_type="application/json",
                               data=json.dumps({"slot": slot.pk, "response": "0", "seq": 1}))
        assert answer.status_code == 404 and answer.json() == {"ok": False, "error": "Not found."}
        assert not release.is_set()  # refused while the owner still held the lock
    finally:
        release.set()
        holder.join(30)
        with connection.cursor() as cursor:
            cursor.execute("SET lock_timeout = 0")
    assert Response.objects.get(slot=slot).text == ""
