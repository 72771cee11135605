"""What staff see of one student's attempt: its answers with the key and feedback (exams.grading.attempt_review
as staff), its gradebook cell (late minutes, penalty, what counts) and its grading history from the audit log."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db.models import Q

from exams import clock
from exams.audit_log import EventRow, event_rows
from exams.gradebook import LateInfo, attempt_late_info
from exams.grading import AttemptReview, attempt_review
from exams.models import Attempt, AuditEvent, Response


@dataclass(frozen=True)
class StaffAttemptRecord:
    attempt: Attempt
    review: AttemptReview
    late: LateInfo | None
    responses: dict[int, Response]  # by slot id: grading state, grader, links
    history: list[EventRow]
    other_attempts: list[Attempt]


def attempt_history(attempt: Attempt) -> list[EventRow]:
    """Audit events about this attempt or its responses, oldest first, and the student's excusals and
    overrides for the assessment (they change what the attempt counts)."""
    response_ids = list(attempt.responses.values_list("pk", flat=True))
    student = attempt.student_id
    events = AuditEvent.objects.filter(
        Q(target_type="exams.response", target_id__in=response_ids)
        | Q(target_type="exams.attempt", target_id=attempt.pk)
        | (Q(target_type__in=("exams.excusal", "exams.studentoverride"), course_id=attempt.assessment.course_id)
           & (Q(after__student=student) | Q(before__student=student))
           & (Q(after__assessment=attempt.assessment.title) | Q(before__assessment=attempt.assessment.title)))
    ).order_by("created_at", "id")
    return event_rows(events)


def staff_attempt_record(attempt: Attempt, now: datetime | None = None) -> StaffAttemptRecord:
    now = now or clock.now()
    return StaffAttemptRecord(
        attempt=attempt,
        review=attempt_review(attempt, now, as_staff=True),
        late=attempt_late_info(attempt),
        responses={r.slot_id: r for r in attempt.responses.select_related("graded_by")},
        history=attempt_history(attempt),
        other_attempts=list(Attempt.objects.filter(assessment=attempt.assessment_id, student=attempt.student_id)
                            .exclude(pk=attempt.pk).order_by("number")),
    )
