"""Grading: inline at submission (MCQ, short answer, code output), through the runner in Celery (code
completion), by a person (manual answers), and again after a template is fixed (regrade)."""
from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Count, Q, Sum

from exams import clock
from exams.access import is_course_staff
from exams.models import Attempt, Response
from quizbank.checking import CheckResult, check
from quizbank.models import Template, TemplateVersion, Variant
from quizbank.spec import Problem, TemplateError

logger = logging.getLogger(__name__)

# A claim older than this belongs to a worker that died mid-grading; another worker may take it over.
STALE_CLAIM = timedelta(minutes=5)


@dataclass(frozen=True)
class RegradeReport:
    responses: int
    changed: int
    queued: int


@dataclass(frozen=True)
class ReviewItem:
    slot_id: int
    position: int
    qtype: str
    public: dict[str, Any]
    text: str
    score: float | None
    valid: bool
    feedback: str
    feedback_data: dict[str, Any]
    grading_state: str
    correct_answer: str | None
    explanation_html: str | None


@dataclass(frozen=True)
class AttemptReview:
    results_released: bool
    answers_released: bool
    score: float | None
    pending_count: int
    items: list[ReviewItem]


def _dispatch_code_grading(response_id: int) -> None:
    from exams.tasks import grade_code_response as task

    transaction.on_commit(lambda: task.delay(response_id))


def _apply_check(response: Response, result: CheckResult, version: TemplateVersion, now: datetime) -> None:
    response.graded_version = version
    response.feedback = result.feedback
    response.feedback_data = {}
    response.graded_by = None
    if result.pending == "runner":
        response.grading_state, response.score, response.valid, response.graded_at = Response.QUEUED, None, True, None
    elif result.pending == "manual":
        response.grading_state, response.score, response.valid, response.graded_at = Response.MANUAL, None, True, None
    else:
        response.grading_state = Response.GRADED
        response.valid = result.valid
        response.score = float(result.score) if result.valid and result.score is not None else 0.0
        response.graded_at = now


def _fetch_variant(version: TemplateVersion, seed: int) -> Variant | TemplateError:
    """The cached variant, generated through the runner on a miss (blocking: never inside a transaction)."""
    from quizbank import services as bank

    try:
        return bank.variant_for(version, seed)
    except TemplateError as error:
        return error


def load_variants(attempt: Attempt) -> dict[int, Variant | TemplateError]:
    """Every slot's variant (or the TemplateError that stops it), by slot id. Call it BEFORE opening the
    transaction that grades: a cache miss runs the sandbox, and SQLite (transaction_mode IMMEDIATE) holds its
    write lock for the whole transaction, so no other student could save meanwhile."""
    return {slot.pk: _fetch_variant(slot.template_version, slot.seed)
            for slot in attempt.slots.select_related("template_version")}


def _check_with(variant: Variant | TemplateError, version: TemplateVersion, text: str) -> CheckResult:
    """Check one answer against an already-fetched variant (no runner call). Raises the variant's TemplateError."""
    if isinstance(variant, TemplateError):
        raise variant
    return check(variant.public, variant.key, (version.spec or {}).get("answer") or {}, text)


def grade_submitted_responses(attempt: Attempt, variants: dict[int, Variant | TemplateError], *,
                              now: datetime | None = None) -> None:
    """Grade every response of a just-submitted attempt (called inside submit's transaction) against
    `variants` from `load_variants`, fetched before the transaction opened: nothing here runs the sandbox."""
    now = now or clock.now()
    responses = (Response.objects.select_for_update().filter(attempt=attempt)
                 .select_related("slot__template_version"))
    for response in responses:
        version = response.slot.template_version
        variant = variants.get(response.slot_id)
        if variant is None:  # not fetched beforehand: never generate while holding the write lock
            variant = TemplateError(Problem("grading", "the question was not prepared before grading; regrade it"),
                                    seed=response.slot.seed)
        try:
            result = _check_with(variant, version, response.text)
        except TemplateError as error:
            response.grading_state, response.score = Response.ERROR, None
            response.feedback = f"This question could not be graded automatically: {error}"
            response.save()
            continue
        _apply_check(response, result, version, now)
        response.save()
        if response.grading_state == Response.QUEUED:
            _dispatch_code_grading(response.pk)
    _refresh_locked(attempt.pk)


def _refresh_locked(attempt_id: int) -> Attempt:
    attempt = Attempt.objects.select_for_update().get(pk=attempt_id)
    totals = Response.objects.filter(attempt_id=attempt_id).aggregate(
        slots=Count("id"), total=Sum("score"),
        pending=Count("id", filter=Q(grading_state__in=Response.PENDING_STATES)))
    attempt.score = (totals["total"] or 0.0) / totals["slots"] if totals["slots"] else 0.0
    attempt.pending_count = totals["pending"]
    attempt.save(update_fields=["score", "pending_count"])
    return attempt


def refresh_attempt_score(attempt_id: int) -> Attempt:
    """Attempt score = sum of slot scores / slot count (ungraded slots count 0 until graded)."""
    with transaction.atomic():
        return _refresh_locked(attempt_id)


def grade_code_response(response_id: int) -> bool:
    """Celery task body. Claims the response with a conditional UPDATE (0 rows: another worker has it, or it
    is already graded), runs the student's code against the tests, stores score and feedback.
    Raises RunnerUnavailable (after releasing the claim) so the task can retry."""
    from quizbank.completion import grade_completion
    from quizbank.engine import RunnerUnavailable
    from quizbank import services as bank

    now = clock.now()
    claimable = Q(grading_state=Response.QUEUED) | Q(grading_state=Response.GRADING, grading_claimed_at__lt=now - STALE_CLAIM)
    claimed = Response.objects.filter(claimable, pk=response_id).update(grading_state=Response.GRADING,
                                                                         grading_claimed_at=now)
    if claimed == 0:
        return False
    response = Response.objects.select_related("slot__template_version").get(pk=response_id)
    version = response.graded_version or response.slot.template_version
    try:
        variant = bank.variant_for(version, response.slot.seed)
        grade = grade_completion(version.to_spec(), response.slot.seed, variant.key["expected_tests"], response.text)
    except RunnerUnavailable:
        Response.objects.filter(pk=response_id, grading_state=Response.GRADING).update(
            grading_state=Response.QUEUED, grading_claimed_at=None)
        raise
    except TemplateError as error:
        with transaction.atomic():
            Attempt.objects.select_for_update().get(pk=response.attempt_id)
            Response.objects.filter(pk=response_id).update(
                grading_state=Response.ERROR, feedback=f"This question could not be graded automatically: {error}")
            _refresh_locked(response.attempt_id)
        return True
    with transaction.atomic():
        Attempt.objects.select_for_update().get(pk=response.attempt_id)
        Response.objects.filter(pk=response_id, grading_state=Response.GRADING).update(
            grading_state=Response.GRADED, score=float(grade.score), valid=True, feedback=grade.summary,
            feedback_data=grade.student_feedback(), graded_at=clock.now(), graded_version=version, graded_by=None)
        _refresh_locked(response.attempt_id)
    return True


def grade_manually(response: Response, grader: Any, score: float, feedback: str = "", *,
                   now: datetime | None = None) -> Response:
    """A person's grade (manual answers, or overriding any automatic grade). `score` is a fraction in [0, 1]."""
    course = response.attempt.assessment.course
    if not is_course_staff(course, grader):
        raise PermissionDenied("Only the course's instructors and TAs grade answers.")
    score = float(score)
    if not 0.0 <= score <= 1.0:
        raise ValueError("A score must be between 0 and 1.")
    if response.attempt.state != Attempt.SUBMITTED:
        raise ValueError("This attempt has not been submitted yet.")
    with transaction.atomic():
        Attempt.objects.select_for_update().get(pk=response.attempt_id)
        Response.objects.filter(pk=response.pk).update(
            grading_state=Response.GRADED, score=score, valid=True, feedback=feedback,
            graded_at=now or clock.now(), graded_by=grader)
        _refresh_locked(response.attempt_id)
    response.refresh_from_db()
    return response


def manual_grading_queue(course: Any):
    return (Response.objects.filter(attempt__assessment__course=course, grading_state=Response.MANUAL)
            .select_related("slot__template", "slot__template_version", "attempt__student", "attempt__assessment")
            .order_by("attempt__submitted_at", "slot__position"))


def regrade_template(template: Template, new_version: TemplateVersion | None = None, *, course: Any = None,
                     by: Any = None, now: datetime | None = None) -> RegradeReport:
    """Re-check every submitted response to `template` with `new_version`'s answer key for the SAME seeds.
    Grades given by a person are kept; code completion goes back to the runner queue. With `course`, only that
    course's responses: an instructor's regrade never changes another course's grades."""
    now = now or clock.now()
    version = new_version or template.current_version
    if version is None or version.template_id != template.pk:
        raise ValueError("regrade needs a version of this template")
    responses = Response.objects.filter(slot__template=template, attempt__state=Attempt.SUBMITTED,
                                        graded_by__isnull=True).exclude(grading_state=Response.MANUAL)
    if course is not None:
        responses = responses.filter(attempt__assessment__course=course)
    response_ids = list(responses.values_list("pk", flat=True))
    changed = queued = 0
    variants: dict[int, Variant | TemplateError] = {}
    for response_id in response_ids:
        seed = Response.objects.filter(pk=response_id).values_list("slot__seed", flat=True).get()
        if seed not in variants:  # the new version's variant may not exist yet: generate it before locking
            variants[seed] = _fetch_variant(version, seed)
        with transaction.atomic():
            response = Response.objects.select_related("slot").get(pk=response_id)
            Attempt.objects.select_for_update().get(pk=response.attempt_id)
            response = Response.objects.select_for_update().select_related("slot").get(pk=response_id)
            before = (response.score, response.valid)
            try:
                result = _check_with(variants[seed], version, response.text)
            except TemplateError as error:
                response.grading_state, response.score = Response.ERROR, None
                response.feedback = f"This question could not be graded automatically: {error}"
                response.graded_version = version
                response.save()
                changed += 1
                _refresh_locked(response.attempt_id)
                continue
            _apply_check(response, result, version, now)
            response.save()
            if response.grading_state == Response.QUEUED:
                queued += 1
                _dispatch_code_grading(response.pk)
            elif (response.score, response.valid) != before:
                changed += 1
            _refresh_locked(response.attempt_id)
    logger.info("regraded %s with v%s: %d responses, %d changed, %d queued (by %s)",
                template.slug, version.number, len(response_ids), changed, queued, by)
    return RegradeReport(len(response_ids), changed, queued)


def _correct_answer_text(public: dict[str, Any], key: dict[str, Any]) -> str:
    if public.get("kind") == "mcq" and "correct_index" in key:
        options = public.get("options") or []
        index = key["correct_index"]
        return f"{chr(65 + index)}. {options[index]['text']}" if 0 <= index < len(options) else str(index)
    if public.get("kind") == "completion":
        return str(key.get("reference", ""))
    if public.get("answer_format") == "manual":
        return str(key.get("rubric", ""))
    answer = key.get("answer", "")
    if isinstance(answer, float) and answer.is_integer():
        return str(int(answer))  # 4.0 -> "4": what a student would type
    return str(answer)


def attempt_review(attempt: Attempt, now: datetime | None = None, *, as_staff: bool = False) -> AttemptReview:
    """What a results page may show: scores and feedback after results release, correct answers after
    answers release (staff always see both). The answer key never leaves this function otherwise."""
    from quizbank import services as bank

    now = now or clock.now()
    assessment = attempt.assessment
    submitted = attempt.state == Attempt.SUBMITTED
    results = as_staff or (submitted and assessment.results_released_at is not None
                           and assessment.results_released_at <= now)
    answers = as_staff or (submitted and assessment.answers_released_at is not None
                           and assessment.answers_released_at <= now)
    items = []
    for slot in attempt.slots.select_related("template_version", "response").order_by("position"):
        try:
            variant = bank.variant_for(slot.template_version, slot.seed)
            public, key = variant.public, variant.key
        except TemplateError:
            from exams.attempts import unavailable_question

            public, key = unavailable_question(slot.qtype), {}
        response = slot.response
        items.append(ReviewItem(
            slot_id=slot.pk, position=slot.position, qtype=slot.qtype, public=public, text=response.text,
            score=response.score if results else None, valid=response.valid if results else True,
            feedback=response.feedback if results else "",
            feedback_data=response.feedback_data if results else {},
            grading_state=response.grading_state if results else "",
            correct_answer=_correct_answer_text(public, key) if answers and key else None,
            explanation_html=key.get("explanation_html") if answers else None,
        ))
    return AttemptReview(results, answers, attempt.score if results else None,
                         attempt.pending_count if results else 0, items)
