"""Fair use of the runner: no student can hold more than a few sandbox jobs, flood practice starts, or make
the class's quiz and exam grading wait behind practice.

- A code response is claimed for grading only while its student has fewer than RUNNER_MAX_JOBS_PER_STUDENT
  claims in GRADING. A refused claim leaves the response QUEUED and the task ends at once; when one of the
  student's jobs ends, `dispatch_waiting` sends their next queued responses (quiz/exam first), and the
  redispatch sweep catches anything lost. A student who floods `while True: pass` delays only themselves.
- Grading tasks are routed by urgency: quiz and exam code to the `grading` queue, practice to `practice`
  (settings CELERY_TASK_QUEUES, so a worker without -Q consumes both; Celery serves its queues in turn,
  so a practice backlog never stands in front of a quiz's grading).
- Practice starts are limited per student: PRACTICE_STARTS_PER_WINDOW in PRACTICE_START_WINDOW_MINUTES.
"""
from __future__ import annotations

import logging
import math
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Case, IntegerField, Q, Value, When

from exams.locks import lock_student
from exams.models import Assessment, Attempt, Response

logger = logging.getLogger(__name__)

CLAIMED, BUSY, GONE = "claimed", "busy", "gone"
GRADING_QUEUE, PRACTICE_QUEUE = "grading", "practice"


def max_jobs_per_student() -> int:
    return max(1, int(getattr(settings, "RUNNER_MAX_JOBS_PER_STUDENT", 2)))


def claim_code_grading(response_id: int, now: datetime, stale_after: timedelta) -> str:
    """CLAIMED (this worker grades it now), BUSY (its student already has the maximum of jobs running: it
    stays QUEUED) or GONE (graded, or another worker holds a live claim)."""
    claimable = Q(grading_state=Response.QUEUED) | Q(grading_state=Response.GRADING,
                                                      grading_claimed_at__lt=now - stale_after)
    with transaction.atomic():
        student_id = (Response.objects.filter(pk=response_id).order_by("pk")
                      .values_list("attempt__student_id", flat=True).first())
        if student_id is None:
            return GONE
        # Serialise one student's claims: on PostgreSQL two workers could otherwise both count N-1 running
        # jobs and both claim. (SQLite's IMMEDIATE transaction already holds the database's write lock.)
        lock_student(student_id)
        running = (Response.objects.filter(attempt__student_id=student_id, grading_state=Response.GRADING,
                                           grading_claimed_at__gte=now - stale_after)
                   .exclude(pk=response_id).count())
        if running >= max_jobs_per_student():
            if Response.objects.filter(claimable, pk=response_id).exists():
                logger.info("response %s waits: its student already has %d code jobs running", response_id, running)
                return BUSY
            return GONE
        claimed = Response.objects.filter(claimable, pk=response_id).update(grading_state=Response.GRADING,
                                                                             grading_claimed_at=now)
    return CLAIMED if claimed else GONE


def dispatch_waiting(response_id: int, now: datetime, stale_after: timedelta) -> list[int]:
    """After one of a student's jobs ended: send as many of their queued responses as they may now run,
    quiz and exam answers before practice, oldest first. A duplicate send is harmless (the claim decides)."""
    from exams.dispatch import send_code_grading_on_commit

    student_id = (Response.objects.filter(pk=response_id).order_by("pk")
                  .values_list("attempt__student_id", flat=True).first())
    if student_id is None:
        return []
    mine = Response.objects.filter(attempt__student_id=student_id)
    free = max_jobs_per_student() - mine.filter(grading_state=Response.GRADING,
                                                grading_claimed_at__gte=now - stale_after).count()
    if free <= 0:
        return []
    practice_last = Case(When(attempt__assessment__kind=Assessment.PRACTICE, then=Value(1)), default=Value(0),
                         output_field=IntegerField())
    waiting = list(mine.filter(grading_state=Response.QUEUED).alias(practice_last=practice_last)
                   .order_by("practice_last", "attempt__submitted_at", "pk").values_list("pk", flat=True)[:free])
    for waiting_id in waiting:
        send_code_grading_on_commit(waiting_id)
    return waiting


def route_task(name: str, args: Any, kwargs: Any, options: Any, task: Any = None, **extra: Any) -> dict[str, str] | None:
    """Celery router (settings CELERY_TASK_ROUTES): code grading by urgency; every other task: default queue."""
    if name != "exams.grade_code_response":
        return None
    response_id = args[0] if args else (kwargs or {}).get("response_id")
    try:
        kind = Response.objects.filter(pk=response_id).values_list("attempt__assessment__kind", flat=True).first()
    except Exception:  # routing must never stop a grading from being sent; when unsure, the urgent queue
        logger.exception("could not route the grading of response %s", response_id)
        kind = None
    return {"queue": PRACTICE_QUEUE if kind == Assessment.PRACTICE else GRADING_QUEUE}


def practice_start_refusal(assessment: Assessment, student: Any, now: datetime) -> str:
    """Why a practice start is refused right now ("" when it is not): too many practice attempts started in
    the last PRACTICE_START_WINDOW_MINUTES, over all of the student's practice assessments."""
    if assessment.kind != Assessment.PRACTICE:
        return ""
    limit = int(getattr(settings, "PRACTICE_STARTS_PER_WINDOW", 10))
    window = timedelta(minutes=int(getattr(settings, "PRACTICE_START_WINDOW_MINUTES", 10)))
    recent = list(Attempt.objects.filter(student=student, assessment__kind=Assessment.PRACTICE,
                                         started_at__gt=now - window)
                  .order_by("-started_at").values_list("started_at", flat=True)[:limit])
    if len(recent) < limit:
        return ""
    wait_minutes = max(1, math.ceil((recent[-1] + window - now).total_seconds() / 60))
    return (f"You have started {limit} practice attempts in the last {int(window.total_seconds() // 60)} minutes. "
            f"You can start another in {wait_minutes} minute{'s' if wait_minutes != 1 else ''}.")
