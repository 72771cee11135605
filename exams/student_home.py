"""A student's course page: every published assessment with its window, attempts and whether it can start."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from exams import clock
from exams.attempts import start_check
from exams.models import Assessment, Attempt, Course
from exams.policy import effective_window


@dataclass(frozen=True)
class StudentAssessmentView:
    assessment: Assessment
    opens_at: datetime | None
    closes_at: datetime | None
    due_at: datetime | None
    time_limit_minutes: float | None
    attempts: list[Attempt]
    can_start: bool
    reason: str
    resume: Attempt | None
    results_released: bool


def assessments_for_student(course: Course, user: Any, now: datetime | None = None) -> list[StudentAssessmentView]:
    now = now or clock.now()
    views = []
    for assessment in course.assessments.filter(state=Assessment.PUBLISHED).order_by("position", "id"):
        window = effective_window(assessment, user)
        check = start_check(assessment, user, now)
        views.append(StudentAssessmentView(
            assessment=assessment, opens_at=window.opens_at, closes_at=window.closes_at, due_at=window.due_at,
            time_limit_minutes=window.time_limit_seconds / 60 if window.time_limit_seconds else None,
            attempts=list(Attempt.objects.filter(assessment=assessment, student=user).order_by("number")),
            can_start=check.allowed, reason=check.reason, resume=check.resume,
            results_released=assessment.results_released_at is not None and assessment.results_released_at <= now,
        ))
    return views
