"""Regrade requests (issue 15, part 5): after results release a student may ask, once per answer and with a
reason, for a graded answer to be looked at again. Staff see the open requests of an assessment, answer each
with a reply and, if they change it, a new score; a changed score goes through exams.grading.grade_manually
(so a TA cannot override an automatic or an instructor's grade) and both the request and the answer are in
the audit log, with the score before and after."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.db.models import QuerySet

from exams import audit, clock
from exams.access import is_course_staff
from exams.grading import grade_manually
from exams.models import Assessment, Attempt, RegradeRequest, Response

REGRADE_REQUEST = audit.REGRADE_REQUEST   # a student asked (reason: theirs)
REGRADE_ANSWER = audit.REGRADE_ANSWER     # staff answered (before/after: the score; after: changed or not)


def results_released(assessment: Assessment, now: datetime | None = None) -> bool:
    now = now or clock.now()
    return assessment.results_released_at is not None and assessment.results_released_at <= now


def may_request(response: Response, student: Any, now: datetime | None = None) -> bool:
    """Whether `student` may still ask for a regrade of `response`."""
    return (_may_ask(response, response.attempt, student, results_released(response.attempt.assessment, now))
            and not RegradeRequest.objects.filter(response=response).exists())


def _may_ask(response: Response, attempt: Attempt, student: Any, released: bool) -> bool:
    return (attempt.student_id == getattr(student, "pk", None) and attempt.state == Attempt.SUBMITTED
            and response.grading_state == Response.GRADED and released)


def regrade_boxes(attempt: Attempt, student: Any, now: datetime | None = None) -> dict[int, dict[str, Any]]:
    """Per slot id of the attempt: its regrade request (or None) and whether the student may still ask, as the
    results page shows them, in two queries for the whole attempt (not three per question)."""
    # order_by(): Response's default ordering joins attempt, assessment and course for nothing here.
    responses = list(Response.objects.filter(attempt=attempt).only("pk", "slot_id", "grading_state").order_by())
    requests = {request.response_id: request for request in RegradeRequest.objects.filter(response__attempt=attempt)}
    released = results_released(attempt.assessment, now)
    return {response.slot_id: {"regrade": requests.get(response.pk),
                               "may_request": response.pk not in requests
                               and _may_ask(response, attempt, student, released)}
            for response in responses}


def request_regrade(response: Response, student: Any, reason: str, *, now: datetime | None = None) -> RegradeRequest:
    """A student's one request for `response`. ValueError says why it is refused."""
    now = now or clock.now()
    reason = (reason or "").strip()
    if response.attempt.student_id != getattr(student, "pk", None):
        raise PermissionDenied("Only the student who gave this answer may ask for a regrade.")
    if RegradeRequest.objects.filter(response=response).exists():
        raise ValueError("You have already asked for a regrade of this question.")
    if not may_request(response, student, now):
        raise ValueError("A regrade can be asked for once the results are released and the answer is graded.")
    if not reason:
        raise ValueError("Say why this answer deserves another look.")
    try:
        with transaction.atomic():
            request = RegradeRequest.objects.create(response=response, student=student, reason=reason[:5000],
                                                    created_at=now, score_before=response.score)
            audit.record(actor=student, action=REGRADE_REQUEST, course=response.attempt.assessment.course,
                         target=response, after={"question": response.slot.position, "score": response.score},
                         reason=request.reason, now=now)
    except IntegrityError:  # two tabs at once: the first one counts
        raise ValueError("You have already asked for a regrade of this question.") from None
    return request


def open_requests(assessment: Assessment) -> QuerySet[RegradeRequest]:
    return (RegradeRequest.objects.filter(response__attempt__assessment=assessment)
            .select_related("response__slot__template", "student", "answered_by")
            .order_by("state", "created_at", "pk"))


def answer_request(request: RegradeRequest, staff: Any, reply: str, new_score: float | None = None, *,
                   now: datetime | None = None) -> RegradeRequest:
    """Staff answer a request: `reply` for the student and, when the grade changes, `new_score` in [0, 1]."""
    response = request.response
    course = response.attempt.assessment.course
    if not is_course_staff(course, staff):
        raise PermissionDenied("Only the course's staff answer regrade requests.")
    reply = (reply or "").strip()
    if not reply:
        raise ValueError("Write a reply to the student.")
    if request.state != RegradeRequest.OPEN:
        raise ValueError("This request has already been answered.")
    now = now or clock.now()
    with transaction.atomic():
        locked = RegradeRequest.objects.select_for_update().get(pk=request.pk)
        if locked.state != RegradeRequest.OPEN:
            raise ValueError("This request has already been answered.")
        before = response.score
        changed = new_score is not None and (before is None or abs(float(new_score) - before) > 1e-9)
        if changed:
            response = grade_manually(response, staff, float(new_score), response.feedback,
                                      reason=f"regrade request: {reply}"[:1000], now=now)
        locked.state, locked.reply, locked.answered_by, locked.answered_at = RegradeRequest.ANSWERED, reply[:5000], staff, now
        locked.score_after = response.score
        locked.save(update_fields=["state", "reply", "answered_by", "answered_at", "score_after"])
        audit.record(actor=staff, action=REGRADE_ANSWER, course=course, target=response,
                     before={"score": before}, after={"score": response.score, "changed": changed},
                     reason=locked.reply, now=now)
    return locked
