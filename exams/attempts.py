"""Starting, saving and submitting attempts. The server owns the clock: every deadline check happens here."""
from __future__ import annotations

import logging
import math
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.db.models import OuterRef, Subquery

from exams import audit, clock, dispatch
from exams.access import is_course_staff
from exams.assembly import attempt_seed, plan_questions
from exams.locks import lock_attempt, locked_responses
from exams.models import Assessment, Attempt, AttemptSlot, Membership, Response
from exams.policy import Window, compute_deadline, effective_window
from exams.questions import preparing_question, unavailable_question
from quizbank.checking import MAX_RESPONSE_CHARS, FormatVerdict, format_verdict
from quizbank.spec import TemplateError

logger = logging.getLogger(__name__)

# Saves that left the browser just before the deadline may arrive a little after it.
AUTOSAVE_GRACE_SECONDS = 15
MAX_SAVED_CHARS = MAX_RESPONSE_CHARS  # one limit: what can be saved can be graded


class AttemptError(Exception):
    """A refused action on an attempt; `message` is written for the student."""

    def __init__(self, message: str):
        self.message = message
        super().__init__(message)


class StartRefused(AttemptError):
    pass


class NotYourAttempt(AttemptError):
    """The attempt or slot is not the user's: views answer 404 (do not reveal that it exists)."""


class AttemptClosed(AttemptError):
    pass


class DeadlinePassed(AttemptError):
    pass


@dataclass(frozen=True)
class StartCheck:
    allowed: bool
    reason: str
    resume: Attempt | None
    attempts_used: int
    attempts_allowed: int
    # What the check read, for the start page to show without reading it again.
    window: Window | None = None
    attempts: tuple[Attempt, ...] = ()


@dataclass(frozen=True)
class QuestionView:
    slot_id: int
    position: int
    qtype: str
    public: dict[str, Any]
    text: str
    saved_at: datetime | None
    answer_config: dict[str, Any] = field(default_factory=dict)
    variant_id: int | None = None  # keys the question's cached HTML (None: a stand-in, never cached)

    @property
    def verdict(self) -> FormatVerdict:
        return answer_verdict(self.public, self.answer_config, self.text)


@dataclass(frozen=True)
class SaveResult:
    saved: bool
    stale: bool
    saved_at: datetime | None
    remaining_seconds: int | None
    verdict: FormatVerdict = FormatVerdict(valid=True)


def _grace() -> timedelta:
    return timedelta(seconds=AUTOSAVE_GRACE_SECONDS)


def is_overdue(attempt: Attempt, now: datetime) -> bool:
    """Past the deadline and the grace for requests in flight."""
    return attempt.deadline is not None and now > attempt.deadline + _grace()


def time_is_up(attempt: Attempt, now: datetime) -> bool:
    """The server's clock says no time is left: `remaining_seconds` is 0 (under one second to the deadline,
    or past it, grace included). A submit from then on is the timer's; the browser's word is never asked.
    Whole seconds, because the page counts down from the floored `remaining_seconds`, so its own time-up
    submit can arrive just under a second before the exact deadline."""
    return attempt.deadline is not None and remaining_seconds(attempt, now) == 0


def stuck_attempts(**scope: Any):
    """In-progress attempts the sweeper could not close, or past their deadline and grace and still open
    (`scope` filters, e.g. assessment__course=course): what staff may force-submit."""
    from django.db.models import Q

    return (Attempt.objects.filter(state=Attempt.IN_PROGRESS, **scope)
            .filter(Q(close_failed_at__isnull=False) | Q(deadline__lt=clock.now() - _grace()))
            .select_related("student", "assessment").order_by("deadline", "pk"))


def remaining_seconds(attempt: Attempt, now: datetime | None = None) -> int | None:
    if attempt.deadline is None:
        return None
    if attempt.state != Attempt.IN_PROGRESS:
        return 0
    left = (attempt.deadline - (now or clock.now())).total_seconds()
    return max(0, math.floor(left))


def start_check(assessment: Assessment, student: Any, now: datetime | None = None, *,
                known_enrolled: bool = False) -> StartCheck:
    """Whether the student may start (or resume) now. `known_enrolled`: the caller has already checked that they
    are a student of the course (permissions.assessment_for_student does), so the check is not asked again."""
    now = now or clock.now()
    window = effective_window(assessment, student)
    attempts = list(Attempt.objects.filter(assessment=assessment, student=student).order_by("number"))
    for attempt in attempts:
        if attempt.state == Attempt.IN_PROGRESS and is_overdue(attempt, now):
            try:
                submit_attempt(attempt, submitted_by=Attempt.BY_TIMER, now=now)
            except Exception as error:  # the student's pages must still load; staff see it and force-submit
                logger.exception("auto-submit of attempt %s (on a page view) failed", attempt.pk)
                record_close_failure(attempt.pk, error, now)
            attempt.refresh_from_db()
    used = len(attempts)

    def refuse(reason: str) -> StartCheck:
        return StartCheck(False, reason, None, used, window.attempts_allowed, window, tuple(attempts))

    open_attempt = next((a for a in attempts if a.state == Attempt.IN_PROGRESS), None)
    if open_attempt is not None:
        return StartCheck(True, "", open_attempt, used, window.attempts_allowed, window, tuple(attempts))
    if not known_enrolled and not Membership.objects.filter(course=assessment.course_id, user=student,
                                                            role=Membership.STUDENT).exists():
        return refuse("You are not enrolled as a student in this course.")
    if assessment.state != Assessment.PUBLISHED:
        return refuse("This assessment is not published yet.")
    if window.opens_at is not None and now < window.opens_at:
        from exams.templatetags.dlquiz_time import when

        return refuse(f"This assessment opens at {when(window.opens_at)}.")
    if window.closes_at is not None and now >= window.closes_at:
        return refuse("This assessment is closed.")
    if used >= window.attempts_allowed:
        return refuse("You have no attempts left." if window.attempts_allowed > 1 else "You have already taken this.")
    from exams.fair_use import practice_start_refusal

    if too_often := practice_start_refusal(assessment, student, now):
        return refuse(too_often)
    return StartCheck(True, "", None, used, window.attempts_allowed, window, tuple(attempts))


def start_attempt(assessment: Assessment, student: Any, *, now: datetime | None = None,
                  known_enrolled: bool = False) -> Attempt:
    """Resume the student's open attempt or start the next one. Two concurrent starts give one attempt:
    the (assessment, student, number) unique constraint lets exactly one insert win."""
    now = now or clock.now()
    check = start_check(assessment, student, now, known_enrolled=known_enrolled)
    if check.resume is not None:
        return check.resume
    if not check.allowed:
        raise StartRefused(check.reason)
    number = check.attempts_used + 1
    seed = attempt_seed(assessment, student, number)
    plan = plan_questions(assessment, seed)  # raises AssemblyError naming what the bank lacks
    try:
        with transaction.atomic():
            attempt = Attempt.objects.create(
                assessment=assessment, student=student, number=number, seed=seed, started_at=now,
                deadline=compute_deadline(assessment, student, now, check.window),  # the window start_check read
            )
            slots = AttemptSlot.objects.bulk_create([
                AttemptSlot(attempt=attempt, position=position, template=planned.template,
                            template_version=planned.version, seed=planned.seed, qtype=planned.qtype)
                for position, planned in enumerate(plan, start=1)
            ])
            Response.objects.bulk_create([Response(slot=slot, attempt=attempt) for slot in slots])
    except IntegrityError:
        existing = Attempt.objects.filter(assessment=assessment, student=student, number=number).first()
        if existing is None:
            raise
        return existing
    return attempt


def attempt_questions(attempt: Attempt) -> list[QuestionView]:
    """What the quiz page shows: each slot's public variant (never the answer key) and the saved answer.

    A variant that was not pre-generated (enrolled after publishing, a later attempt, an edited template) is
    generated once and cached: in this process by default (the embedded profile), or, with
    settings.QUIZ_PAGE_GENERATES_VARIANTS off (the production profile), by a worker on the grading queue while
    the page shows a stand-in and waits (exams.assembly.prepare_attempt_variants): a web process then never
    runs template code nor starts a runner pool."""
    from exams.assembly import request_attempt_variants, variant_failure
    from exams.grading import web_generates_variants

    slots, publics = _slots_and_publics(attempt)
    missing = [row for row in slots if (row[4], row[3]) not in publics]
    in_process = web_generates_variants()
    if missing and not in_process:
        request_attempt_variants(attempt.pk)  # a worker makes them; eager Celery (tests) makes them here
        publics.update(_publics(missing))
    views = []
    for slot_id, position, qtype, seed, version_id, answer_config, text, saved_at in slots:
        variant_id, public = publics.get((version_id, seed), (None, None))
        if public is None and in_process:
            variant_id, public = _generate_here(attempt, position, version_id, seed, qtype)
        elif public is None:
            failure = variant_failure(version_id, seed)
            public = unavailable_question(qtype) if failure else preparing_question(qtype)
        views.append(QuestionView(slot_id, position, qtype, public, text or "", saved_at,
                                  answer_config if isinstance(answer_config, dict) else {}, variant_id))
    return views


def questions_ready(attempt: Attempt) -> bool:
    """Whether every question of the attempt has its variant (or is known to be broken): the waiting quiz
    page reloads when it is. Asks a worker again if the first request was lost."""
    from exams.assembly import request_attempt_variants, variant_failure

    slots, publics = _slots_and_publics(attempt)
    waiting = [row for row in slots if (row[4], row[3]) not in publics and not variant_failure(row[4], row[3])]
    if waiting:
        request_attempt_variants(attempt.pk)
    return not waiting


def _slots_and_publics(attempt: Attempt) -> tuple[list[tuple], dict[tuple[int, int], tuple[int, dict[str, Any]]]]:
    # Two queries whatever the number of questions: the slots with their saved answers and answer formats
    # (not the versions' whole specs), then the variants' public parts (never the key column).
    slots = list(attempt.slots.order_by("position").values_list(
        "pk", "position", "qtype", "seed", "template_version_id", "template_version__spec__answer",
        "response__text", "response__saved_at"))
    return slots, _publics(slots)


def _publics(slots: list[tuple]) -> dict[tuple[int, int], tuple[int, dict[str, Any]]]:
    from quizbank.models import Variant

    if not slots:
        return {}
    return {(version_id, seed): (variant_id, public) for variant_id, version_id, seed, public in
            Variant.objects.filter(version_id__in={row[4] for row in slots}, seed__in={row[3] for row in slots})
            .values_list("pk", "version_id", "seed", "public")}


def _generate_here(attempt: Attempt, position: int, version_id: int, seed: int,
                   qtype: str) -> tuple[int | None, dict[str, Any]]:
    from quizbank import services as bank
    from quizbank.models import TemplateVersion

    try:
        variant = bank.variant_for(TemplateVersion.objects.get(pk=version_id), seed)
        return variant.pk, variant.public
    except TemplateError as error:
        # A template broken for this seed must not take the whole quiz page down; staff see the error when
        # grading (the response goes to ERROR) and can fix the template and regrade.
        logger.error("attempt %s slot %s: %s", attempt.pk, position, error)
        return None, unavailable_question(qtype)


def unanswered_positions(attempt: Attempt) -> list[int]:
    return list(Response.objects.filter(attempt=attempt, text__regex=r"^\s*$")
                .order_by("slot__position").values_list("slot__position", flat=True))


def autosave(attempt: Attempt | int, slot_id: int, text: str, *, user: Any, client_seq: int | None = None,
             now: datetime | None = None) -> SaveResult:
    """Save one answer. Checks owner, state and deadline on the server; a refused save changes nothing, and a
    save older than the one stored (`client_seq`) is ignored, so nothing already saved is ever lost.
    `attempt` may be its id (the autosave endpoint: the attempt is read once, locked, and only if it is the
    user's, so nobody's saves can hold another student's row)."""
    now = now or clock.now()
    attempt_id = attempt if isinstance(attempt, int) else attempt.pk
    if len(text) > MAX_SAVED_CHARS:
        raise AttemptError(f"This answer is longer than {MAX_SAVED_CHARS} characters and was not saved.")
    from exams.forms import unstorable_text_problem

    if problem := unstorable_text_problem(text):
        raise AttemptError(problem)
    with transaction.atomic():
        try:
            locked = lock_attempt(attempt_id, student_id=getattr(user, "pk", None))
        except Attempt.DoesNotExist:
            raise NotYourAttempt("No such attempt.") from None
        if locked.state != Attempt.IN_PROGRESS:
            raise AttemptClosed("This attempt has been submitted; answers can no longer change.")
        if is_overdue(locked, now):
            raise DeadlinePassed("Time is up: this answer arrived after the deadline and was not saved.")
        # The response row alone: Response's default ordering would join (and lock) the assessment and course.
        response = locked_responses(attempt_id=locked.pk, slot_id=slot_id).first()
        if response is None:
            raise NotYourAttempt("No such question in this attempt.")
        if client_seq is not None and client_seq < response.client_seq:
            return SaveResult(False, True, response.saved_at, remaining_seconds(locked, now))
        response.text = text
        response.saved_at = now
        response.save_count += 1
        if client_seq is not None:
            response.client_seq = client_seq
        response.save(update_fields=["text", "saved_at", "save_count", "client_seq"])
    # After the transaction: the attempt row is not held locked while the answer is read.
    return SaveResult(True, False, now, remaining_seconds(locked, now), saved_text_verdict(locked, slot_id, text))


def answer_verdict(public: dict[str, Any], answer_config: dict[str, Any], text: str) -> FormatVerdict:
    """Can the grader read this answer? Decided from the public variant and the answer format only, never the
    key, so showing it while the student answers reveals nothing about correctness."""
    try:
        return format_verdict(public, answer_config, text)
    except Exception:  # feedback while answering must never break saving; grading reports the real problem
        logger.exception("format verdict failed for a %s answer", public.get("kind"))
        return FormatVerdict(valid=True)


def saved_text_verdict(attempt: Attempt, slot_id: int, text: str) -> FormatVerdict:
    """The verdict for one slot's text, from the cached variant's public part (one query; the key column is
    never selected). A variant not cached yet gives no verdict rather than running the sandbox here."""
    from quizbank.models import Variant

    public_part = Variant.objects.filter(version_id=OuterRef("template_version_id"), seed=OuterRef("seed"))
    # order_by("pk"): AttemptSlot's default ordering would join the attempt, assessment and course for nothing.
    row = (AttemptSlot.objects.filter(pk=slot_id, attempt_id=attempt.pk).order_by("pk")
           .annotate(public=Subquery(public_part.values("public")[:1]))
           .values_list("public", "template_version__spec__answer").first())
    if row is None or not isinstance(row[0], dict):
        return FormatVerdict(valid=True)
    public, answer_config = row
    return answer_verdict(public, answer_config if isinstance(answer_config, dict) else {}, text)


def submit_attempt(attempt: Attempt, *, user: Any = None, submitted_by: str = Attempt.BY_STUDENT,
                   now: datetime | None = None) -> Attempt:
    """Close the attempt and grade what was saved. Idempotent: submitting twice changes nothing.

    Who submitted is the server's decision: BY_STAFF is kept (force_submit); otherwise it is BY_TIMER iff the
    server's clock leaves no time (`time_is_up`: under a second to the deadline, or past it, the grace
    included) and BY_STUDENT before that, whatever the caller or the browser says. Grading never stops the
    submit: a response whose checking fails goes to ERROR for staff (exams.grading), and the attempt is
    submitted all the same."""
    closed, _ = _close(attempt, user=user, submitted_by=submitted_by, now=now)
    return closed


def _close(attempt: Attempt, *, user: Any = None, submitted_by: str, now: datetime | None = None,
           actor: Any = None) -> tuple[Attempt, bool]:
    """Submit and grade; returns (attempt, whether this call closed it). With `actor`, the force-submit's
    audit record commits with the change."""
    from exams.grading import (VariantNotPrepared, flag_ungraded_responses, grade_submitted_responses,
                               load_variants, web_generates_variants)

    now = now or clock.now()
    if user is not None and attempt.student_id != user.pk:
        raise NotYourAttempt("No such attempt.")
    if attempt.state == Attempt.SUBMITTED:  # as loaded by this request; a stale copy is caught under the lock
        return attempt, False
    # Variants not cached yet are generated through the runner HERE, before the transaction: SQLite holds its
    # write lock from the first statement of a transaction (IMMEDIATE), and a sandbox run must not hold it.
    # On the production profile they are not generated here at all: a grading worker makes and grades them.
    variants = load_variants(attempt, generate=web_generates_variants())
    unprepared = any(isinstance(variant, VariantNotPrepared) for _, variant in variants.values())
    with transaction.atomic():
        locked = lock_attempt(attempt.pk)
        if locked.state == Attempt.SUBMITTED:
            return locked, False
        if submitted_by != Attempt.BY_STAFF:
            submitted_by = Attempt.BY_TIMER if time_is_up(locked, now) else Attempt.BY_STUDENT
        before = {"state": locked.state, "close_error": locked.close_error}
        locked.state = Attempt.SUBMITTED
        # An attempt cannot end after its deadline: a submit inside the grace period counts as on time.
        locked.submitted_at = min(now, locked.deadline) if locked.deadline else now
        locked.submitted_by = submitted_by
        locked.close_error, locked.close_failed_at = "", None
        try:
            with transaction.atomic():
                locked.score, locked.pending_count = grade_submitted_responses(locked, variants, now=now)
        except Exception as error:  # grading as a whole failed: the attempt still closes, staff see why
            logger.exception("grading attempt %s at submission failed", locked.pk)
            flagged = flag_ungraded_responses(locked.pk, error)
            locked.score, locked.pending_count = flagged.score, flagged.pending_count
        # One write of the attempt row, under its lock since the start of this transaction.
        locked.save(update_fields=["state", "submitted_at", "submitted_by", "close_error", "close_failed_at",
                                   "score", "pending_count"])
        if unprepared:
            dispatch.send_safely_on_commit(dispatch.GRADE_UNPREPARED_RESPONSES, locked.pk)
        if actor is not None:
            audit.record(actor=actor, action=audit.ATTEMPT_FORCE_SUBMIT, course=locked.assessment.course_id,
                         target=locked, before=before,
                         after={"state": locked.state, "submitted_by": submitted_by,
                                "submitted_at": locked.submitted_at.isoformat()}, now=now)
    return locked, True


def force_submit(attempt: Attempt, by: Any, *, now: datetime | None = None) -> Attempt:
    """Staff close a stuck in-progress attempt (the sweeper failed on it, the student left): submitted by
    staff, graded like any submit, recorded in the audit log. Instructors and TAs of the course only."""
    if not is_course_staff(attempt.assessment.course, by):
        raise PermissionDenied("Only the course's instructors and TAs can submit an attempt for a student.")
    closed, did_close = _close(attempt, submitted_by=Attempt.BY_STAFF, now=now, actor=by)
    if not did_close:
        raise AttemptClosed("This attempt was already submitted.")
    return closed


def record_close_failure(attempt_id: int, error: BaseException, now: datetime) -> None:
    """Keep why an attempt could not be closed automatically (and since when: the first failure), for staff."""
    from django.db.models import F, Value
    from django.db.models.functions import Coalesce

    from exams.grading import error_reason

    try:
        Attempt.objects.filter(pk=attempt_id, state=Attempt.IN_PROGRESS).update(
            close_error=error_reason(error), close_failed_at=Coalesce(F("close_failed_at"), Value(now)))
    except Exception:
        logger.exception("could not record why attempt %s did not close", attempt_id)


def expire_overdue_attempts(now: datetime | None = None) -> int:
    """Submit every attempt whose time ran out (students who closed the browser). Returns how many.
    An attempt that fails to close keeps the reason (close_error, shown to staff) and the others go on."""
    now = now or clock.now()
    overdue = list(Attempt.objects.filter(state=Attempt.IN_PROGRESS, deadline__lt=now - _grace())
                   .order_by("pk").values_list("pk", flat=True))
    submitted = 0
    for attempt_id in overdue:
        try:
            attempt = Attempt.objects.get(pk=attempt_id)
            if attempt.state == Attempt.IN_PROGRESS:
                submit_attempt(attempt, submitted_by=Attempt.BY_TIMER, now=now)
                submitted += 1
        except Exception as error:  # one broken attempt must not stop the others from closing
            logger.exception("auto-submit of attempt %s failed", attempt_id)
            record_close_failure(attempt_id, error, now)
    return submitted
