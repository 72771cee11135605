"""The end of a quiz on PostgreSQL: a class submits at the same instant, the timer closes the attempts of
students who left, and students still answering keep autosaving. Nothing deadlocks, nothing waits on a row
the whole class shares, every attempt closes once and every answer is graded once.

Real threads, each with its own database connection, through the real services; only PostgreSQL takes row
locks (`select_for_update` is a no-op on SQLite), so this runs in the production lane.
"""
from __future__ import annotations

import re
import threading
from collections import Counter
from datetime import timedelta
from typing import Any, Callable

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from exams import attempts, grading
from exams.models import Assessment, Attempt, Response
from exams.roster import enroll
from quizbank import services as bank
from tests.conftest import make_user
from tests.exams_personas import (T0, build_classroom, correct_text, fast_passwords, frozen_clock, make_assessment,
                                  spec_for)
from tests.production_support import run_at_once

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]
__all__ = ["fast_passwords", "frozen_clock"]

SUBMITTERS = 30  # press Submit at the same instant
LEFT = 6  # closed the browser: their deadline has passed, the sweeper (two beats at once) closes them
ANSWERING = 4  # untimed attempts of the same quiz, still being answered during the wave
WAVE_AT = T0 + timedelta(minutes=20)


def tiny_quiz(course, title: str = "Quiz 1") -> Assessment:
    for spec in (spec_for("wave-mcq", "mcq", "mcq"), spec_for("wave-short", "short", "short")):
        bank.save_spec(spec)
    return make_assessment(course, title, blueprint=[{"templates": ["wave-mcq", "wave-short"]}])


def started_class(assessment: Assessment, count: int) -> list[tuple[Any, Attempt]]:
    course = assessment.course
    started = []
    for i in range(count):
        student = make_user(f"wave-{i:03d}")
        enroll(course, student, "student", f"W{i:03d}")
        started.append((student, attempts.start_attempt(assessment, student, now=T0)))
    # every variant generated up front on all sandboxes at once, as pre-generation does before a class
    bank.pregenerate([(slot.template_version, slot.seed) for _, attempt in started
                      for slot in attempt.slots.select_related("template_version")])
    for i, (student, attempt) in enumerate(started):
        for slot in attempt.slots.order_by("position"):
            text = correct_text(slot) if i % 3 else "0"
            attempts.autosave(attempt, slot.pk, text, user=student, client_seq=1, now=T0 + timedelta(minutes=1))
    return started


@pytest.fixture
def counted(monkeypatch) -> tuple[Counter, Counter]:
    """Counts each attempt actually closed and each response actually graded, passing every call through."""
    closes: Counter = Counter()
    grades: Counter = Counter()
    lock = threading.Lock()
    real_close, real_check = attempts._close, grading._check_into

    def close(attempt, **kwargs):
        closed, did_close = real_close(attempt, **kwargs)
        if did_close:
            with lock:
                closes[attempt.pk] += 1
        return closed, did_close

    def check_into(response, *args, **kwargs):
        with lock:
            grades[response.pk] += 1
        return real_check(response, *args, **kwargs)

    monkeypatch.setattr(attempts, "_close", close)
    monkeypatch.setattr(grading, "_check_into", check_into)
    return closes, grades


def test_a_class_submitting_at_once_with_the_sweeper_and_autosaves_closes_every_attempt_once(
        fast_passwords, frozen_clock, counted):
    closes, grades = counted
    classroom = build_classroom("WAVE")
    quiz = tiny_quiz(classroom.course)
    everyone = started_class(quiz, SUBMITTERS + LEFT + ANSWERING)
    submitters = everyone[:SUBMITTERS]
    left = everyone[SUBMITTERS:SUBMITTERS + LEFT]
    answering = everyone[SUBMITTERS + LEFT:]
    Attempt.objects.filter(pk__in=[a.pk for _, a in left]).update(deadline=WAVE_AT - timedelta(minutes=2))
    Attempt.objects.filter(pk__in=[a.pk for _, a in answering]).update(deadline=None)

    def submit(student, attempt) -> Callable[[], Any]:
        return lambda: attempts.submit_attempt(attempt, user=student, now=WAVE_AT)

    def last_save(student, attempt) -> Callable[[], Any]:
        slot_id = attempt.slots.order_by("position").values_list("pk", flat=True)[1]

        def save() -> None:  # the save that left the browser just before Submit: stored or refused, never lost
            try:
                attempts.autosave(attempt, slot_id, "12", user=student, client_seq=2, now=WAVE_AT)
            except attempts.AttemptClosed:
                pass
        return save

    def keep_answering(student, attempt) -> Callable[[], Any]:
        slot_ids = list(attempt.slots.order_by("position").values_list("pk", flat=True))

        def answer() -> None:
            for seq in range(2, 12):
                attempts.autosave(attempt, slot_ids[seq % 2], str(seq), user=student, client_seq=seq, now=WAVE_AT)
        return answer

    sweep = lambda: attempts.expire_overdue_attempts(now=WAVE_AT)  # noqa: E731
    actions = [submit(s, a) for s, a in submitters] + [last_save(s, a) for s, a in submitters[::5]]
    actions += [sweep, sweep] + [submit(s, a) for s, a in left[::2]]
    actions += [keep_answering(s, a) for s, a in answering]

    errors = run_at_once(actions)

    assert errors == []
    closed_ids = {a.pk for _, a in submitters + left}
    assert dict(closes) == {pk: 1 for pk in closed_ids}
    graded = Response.objects.filter(attempt_id__in=closed_ids)
    assert dict(grades) == {pk: 1 for pk in graded.values_list("pk", flat=True)}
    assert set(graded.values_list("grading_state", flat=True)) == {Response.GRADED}
    closed = Attempt.objects.filter(pk__in=closed_ids)
    assert set(closed.values_list("state", "pending_count", "close_error")) == {(Attempt.SUBMITTED, 0, "")}
    assert sorted(closed.filter(submitted_by=Attempt.BY_TIMER).values_list("pk", flat=True)) == sorted(
        a.pk for _, a in left)
    for _, attempt in answering:
        attempt.refresh_from_db()
        assert attempt.state == Attempt.IN_PROGRESS
        assert sorted(attempt.responses.values_list("text", flat=True)) == ["10", "11"]


ROW_LOCK = re.compile(r" FOR (NO KEY )?UPDATE( OF (?P<tables>.*))?$")


def locking_sql(captured: CaptureQueriesContext) -> list[str]:
    return [query["sql"] for query in captured.captured_queries if ROW_LOCK.search(query["sql"])]


def assert_locks_own_rows_only(captured: CaptureQueriesContext) -> None:
    locks = locking_sql(captured)
    assert locks, "the attempt's own rows are locked"
    for sql in locks:  # tables joined for reading (the assessment, say) are read, never locked
        assert ROW_LOCK.search(sql)["tables"] in ('"exams_attempt"', '"exams_response"'), sql
    assert writes_to_shared_rows(captured) == []


def writes_to_shared_rows(captured: CaptureQueriesContext) -> list[str]:
    """UPDATEs and DELETEs of rows every student shares (each would make the whole class wait in turn)."""
    shared = ('"exams_assessment"', '"exams_course"', '"quizbank_template"', '"quizbank_templateversion"')
    return [query["sql"] for query in captured.captured_queries
            if query["sql"].startswith(tuple(f"{verb} {table}" for verb in ("UPDATE", "DELETE FROM")
                                             for table in shared))]


def test_autosave_and_submit_lock_only_the_students_own_rows(fast_passwords, frozen_clock):
    classroom = build_classroom("LOCKS")
    quiz = tiny_quiz(classroom.course)
    student = classroom.student
    attempt = attempts.start_attempt(quiz, student, now=T0)
    slot = attempt.slots.order_by("position").first()
    attempts.attempt_questions(attempt)  # variants cached, as after the quiz page

    with CaptureQueriesContext(connection) as saving:
        attempts.autosave(attempt, slot.pk, correct_text(slot), user=student, client_seq=1)
    with CaptureQueriesContext(connection) as submitting:
        attempts.submit_attempt(attempt, user=student)

    assert_locks_own_rows_only(saving)
    assert_locks_own_rows_only(submitting)


def test_the_sweeper_and_staff_grading_lock_only_the_attempts_they_change(fast_passwords, frozen_clock):
    classroom = build_classroom("LOCKS2")
    quiz = tiny_quiz(classroom.course)
    left = attempts.start_attempt(quiz, classroom.student, now=T0)
    stuck = attempts.start_attempt(quiz, classroom.other_student, now=T0)
    attempts.attempt_questions(left)
    attempts.attempt_questions(stuck)

    with CaptureQueriesContext(connection) as sweeping:
        attempts.expire_overdue_attempts(now=T0 + timedelta(hours=1))
    Attempt.objects.filter(pk=stuck.pk).update(state=Attempt.IN_PROGRESS)  # stuck again: staff close it
    with CaptureQueriesContext(connection) as forcing:
        attempts.force_submit(Attempt.objects.get(pk=stuck.pk), classroom.instructor, now=T0 + timedelta(hours=1))
    response = Response.objects.filter(attempt=left).order_by("pk").first()
    with CaptureQueriesContext(connection) as overriding:
        grading.grade_manually(response, classroom.instructor, 1.0, "fine", reason="partial credit agreed")
    with CaptureQueriesContext(connection) as regrading:
        grading.regrade_template(response.slot.template)

    for captured in (sweeping, forcing, overriding, regrading):
        assert_locks_own_rows_only(captured)
