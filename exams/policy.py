"""The dates and limits that apply to one student: the assessment's, adjusted by their override."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db import transaction

from exams import audit
from exams.models import Assessment, Attempt, StudentOverride


@dataclass(frozen=True)
class Window:
    opens_at: datetime | None
    closes_at: datetime | None
    due_at: datetime | None
    time_limit_seconds: int | None
    attempts_allowed: int


def override_for(assessment: Assessment, student) -> StudentOverride | None:
    return StudentOverride.objects.filter(assessment=assessment, student=student).first()


def effective_window(assessment: Assessment, student, override: StudentOverride | None = None) -> Window:
    if override is None:
        override = override_for(assessment, student)
    limit = assessment.time_limit_minutes
    limit_seconds = None
    if limit is not None:
        limit_seconds = limit * 60
        if override is not None:
            limit_seconds += limit * 60 * override.extra_percent // 100 + override.extra_minutes * 60
    if override is None:
        return Window(assessment.opens_at, assessment.closes_at, assessment.due_at, limit_seconds,
                      assessment.attempts_allowed)
    closes_at = override.closes_at or assessment.closes_at
    if closes_at is not None and override.closes_at is None and override.extra_minutes and limit is None:
        # An untimed assessment has no limit to extend: extra minutes extend its closing time instead.
        closes_at += timedelta(minutes=override.extra_minutes)
    return Window(
        opens_at=override.opens_at or assessment.opens_at,
        closes_at=closes_at,
        due_at=override.due_at or assessment.due_at,
        time_limit_seconds=limit_seconds,
        attempts_allowed=override.attempts_allowed or assessment.attempts_allowed,
    )


def compute_deadline(assessment: Assessment, student, started_at: datetime,
                     window: Window | None = None) -> datetime | None:
    """min(start + time limit (with extra time), closing time (with the override's date)). `window`: the
    student's effective_window when the caller has just read it (the start does), saving the override query."""
    window = effective_window(assessment, student) if window is None else window
    candidates = []
    if window.time_limit_seconds is not None:
        candidates.append(started_at + timedelta(seconds=window.time_limit_seconds))
    if window.closes_at is not None:
        candidates.append(window.closes_at)
    return min(candidates) if candidates else None


@transaction.atomic
def set_override(assessment: Assessment, student, *, extra_minutes: int = 0, extra_percent: int = 0,
                 opens_at: datetime | None = None, closes_at: datetime | None = None,
                 due_at: datetime | None = None, attempts_allowed: int | None = None,
                 note: str = "", by: Any = None) -> StudentOverride:
    previous = StudentOverride.objects.select_for_update().filter(assessment=assessment, student=student).first()
    override, _ = StudentOverride.objects.update_or_create(
        assessment=assessment, student=student,
        defaults=dict(extra_minutes=extra_minutes, extra_percent=extra_percent, opens_at=opens_at,
                      closes_at=closes_at, due_at=due_at, attempts_allowed=attempts_allowed, note=note),
    )
    # Extra time granted mid-attempt applies at once: the running attempt's deadline moves.
    # of=("self",) and pk order: Attempt's default ordering would join and lock the assessment and course rows.
    for attempt in Attempt.objects.select_for_update(of=("self",), no_key=True).filter(
            assessment=assessment, student=student, state=Attempt.IN_PROGRESS).order_by("pk"):
        attempt.deadline = compute_deadline(assessment, student, attempt.started_at)
        attempt.save(update_fields=["deadline"])
    who = {"student": student.pk, "student_name": student.get_full_name() or student.username,
           "assessment": assessment.title}
    audit.record(actor=by, action=audit.OVERRIDE_SET, course=assessment.course_id, target=override, reason=note,
                 before={**who, **_override_values(previous)} if previous else who,
                 after={**who, **_override_values(override)})
    return override


def _override_values(override: StudentOverride) -> dict[str, Any]:
    def when(value: datetime | None) -> str | None:
        return value.isoformat() if value else None

    return {"extra_minutes": override.extra_minutes, "extra_percent": override.extra_percent,
            "opens_at": when(override.opens_at), "closes_at": when(override.closes_at), "due_at": when(override.due_at),
            "attempts_allowed": override.attempts_allowed, "note": override.note}
