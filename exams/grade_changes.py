"""Who may change a grade by hand, and what the change is called in the audit log.

Grading an answer that waits for a person (a manual-format question, or one whose automatic grading failed)
is for any of the course's staff. Replacing a grade the machine gave, or one an instructor gave, is an
override: instructors only, and always with a reason, so a TA cannot silently rewrite scores.
"""
from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied

from exams import access, audit
from exams.models import Membership, Response


def is_manual_format(response: Response) -> bool:
    spec = response.slot.template_version.spec or {}
    return (spec.get("answer") or {}).get("format") == "manual"


def _is_instructor(course: Any, user: Any) -> bool:
    if user is None:
        return False
    return bool(getattr(user, "is_superuser", False)) or access.role_in(course, user) == Membership.INSTRUCTOR


def is_override(response: Response) -> bool:
    """Whether grading `response` by hand would replace an automatic grade or an instructor's grade."""
    if response.grading_state != Response.GRADED:
        return False
    if response.graded_by_id is None:
        return not is_manual_format(response)
    return _is_instructor(response.attempt.assessment.course, response.graded_by)


def check_grade_change(response: Response, grader: Any, reason: str) -> str:
    """The audit action for `grader` grading `response` by hand (GRADE_MANUAL or GRADE_OVERRIDE). Raises
    PermissionDenied for a TA's override and ValueError for an override without a reason."""
    if not is_override(response):
        return audit.GRADE_MANUAL
    if not _is_instructor(response.attempt.assessment.course, grader):
        raise PermissionDenied("Only an instructor may change a grade given automatically or by an instructor.")
    if not reason.strip():
        raise ValueError("Say why you are changing this grade: the reason is kept in the audit log.")
    return audit.GRADE_OVERRIDE


def grade_snapshot(response: Response) -> dict[str, Any]:
    """The parts of a grade the audit log keeps, before and after a change."""
    student = response.attempt.student
    return {"student": student.pk, "student_name": student.get_full_name() or student.username,
            "assessment": response.attempt.assessment.title, "question": response.slot.position,
            "score": response.score, "grading_state": response.grading_state, "feedback": response.feedback,
            "graded_by": response.graded_by.username if response.graded_by_id else None}
