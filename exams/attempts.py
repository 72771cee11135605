"""Starting, saving and submitting attempts. The server owns the clock: every deadline check happens here."""
from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db import IntegrityError, transaction

from exams import clock
from exams.assembly import attempt_seed, plan_questions
from exams.models import Assessment, Attempt, AttemptSlot, Membership, Response
from exams.policy import compute_deadline, effective_window
from quizbank.spec import TemplateError

logger = logging.getLogger(__name__)

# Saves that left the browser just before the deadline may arrive a little after it.
AUTOSAVE_GRACE_SECONDS = 15
MAX_SAVED_CHARS = 100_000


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


@dataclass(frozen=True)
class QuestionView:
    slot_id: int
    position: int
    qtype: str
    public: dict[str, Any]
    text: str
    saved_at: datetime | None


@dataclass(frozen=True)
class SaveResult:
    saved: bool
    stale: bool
    saved_at: datetime | None
    remaining_seconds: int | None


def _grace() -> timedelta:
    return timedelta(seconds=AUTOSAVE_GRACE_SECONDS)


def is_overdue(attempt: Attempt, now: datetime) -> bool:
    """Past the deadline and the grace for requests in flight."""
    return attempt.deadline is not None and now > attempt.deadline + _grace()


def remaining_seconds(attempt: Attempt, now: datetime | None = None) -> int | None:
    if attempt.deadline is None:
        return None
    if attempt.state != Attempt.IN_PROGRESS:
        return 0
    left = (attempt.deadline - (now or clock.now())).total_seconds()
    return max(0, math.floor(left))


def start_check(assessment: Assessment, student: Any, now: datetime | None = None) -> StartCheck:
    now = now or clock.now()
    window = effective_window(assessment, student)
    attempts = list(Attempt.objects.filter(assessment=assessment, student=student).order_by("number"))
    for attempt in attempts:
        if attempt.state == Attempt.IN_PROGRESS and is_overdue(attempt, now):
            submit_attempt(attempt, submitted_by=Attempt.BY_TIMER, now=now)
            attempt.refresh_from_db()
    used = len(attempts)

    def refuse(reason: str) -> StartCheck:
        return StartCheck(False, reason, None, used, window.attempts_allowed)

    open_attempt = next((a for a in attempts if a.state == Attempt.IN_PROGRESS), None)
    if open_attempt is not None:
        return StartCheck(True, "", open_attempt, used, window.attempts_allowed)
    if not Membership.objects.filter(course=assessment.course_id, user=student, role=Membership.STUDENT).exists():
        return refuse("You are not enrolled as a student in this course.")
    if assessment.state != Assessment.PUBLISHED:
        return refuse("This assessment is not published yet.")
    if window.opens_at is not None and now < window.opens_at:
        return refuse(f"This assessment opens at {window.opens_at:%Y-%m-%d %H:%M %Z}.")
    if window.closes_at is not None and now >= window.closes_at:
        return refuse("This assessment is closed.")
    if used >= window.attempts_allowed:
        return refuse("You have no attempts left." if window.attempts_allowed > 1 else "You have already taken this.")
    return StartCheck(True, "", None, used, window.attempts_allowed)


def start_attempt(assessment: Assessment, student: Any, *, now: datetime | None = None) -> Attempt:
    """Resume the student's open attempt or start the next one. Two concurrent starts give one attempt:
    the (assessment, student, number) unique constraint lets exactly one insert win."""
    now = now or clock.now()
    check = start_check(assessment, student, now)
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
                deadline=compute_deadline(assessment, student, now),
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
    """What the quiz page shows: each slot's public variant (never the answer key) and the saved answer."""
    from quizbank import services as bank

    views = []
    for slot in attempt.slots.select_related("template_version", "response").order_by("position"):
        try:
            public = bank.variant_for(slot.template_version, slot.seed).public
        except TemplateError as error:
            # A template broken for this seed must not take the whole quiz page down; staff see the error
            # when grading (the response goes to ERROR) and can fix the template and regrade.
            logger.error("attempt %s slot %s: %s", attempt.pk, slot.position, error)
            public = unavailable_question(slot.qtype)
        response = slot.response
        views.append(QuestionView(slot.pk, slot.position, slot.qtype, public, response.text, response.saved_at))
    return views


def unavailable_question(qtype: str) -> dict[str, Any]:
    return {"kind": "unavailable", "qtype": qtype, "answer_format": "text", "title": "Question unavailable",
            "stem_md": "This question could not be generated. Tell your instructor; it will be regraded.",
            "stem_html": "<p>This question could not be generated. Tell your instructor; it will be regraded.</p>",
            "program": "", "program_html": "", "unavailable": True}


def unanswered_positions(attempt: Attempt) -> list[int]:
    return list(Response.objects.filter(attempt=attempt, text__regex=r"^\s*$")
                .order_by("slot__position").values_list("slot__position", flat=True))


def autosave(attempt: Attempt, slot_id: int, text: str, *, user: Any, client_seq: int | None = None,
             now: datetime | None = None) -> SaveResult:
    """Save one answer. Checks owner, state and deadline on the server; a refused save changes nothing, and a
    save older than the one stored (`client_seq`) is ignored, so nothing already saved is ever lost."""
    now = now or clock.now()
    if attempt.student_id != getattr(user, "pk", None):
        raise NotYourAttempt("No such attempt.")
    if len(text) > MAX_SAVED_CHARS:
        raise AttemptError(f"This answer is longer than {MAX_SAVED_CHARS} characters and was not saved.")
    with transaction.atomic():
        locked = Attempt.objects.select_for_update().get(pk=attempt.pk)
        if locked.state != Attempt.IN_PROGRESS:
            raise AttemptClosed("This attempt has been submitted; answers can no longer change.")
        if is_overdue(locked, now):
            raise DeadlinePassed("Time is up: this answer arrived after the deadline and was not saved.")
        response = Response.objects.select_for_update().filter(attempt=locked, slot_id=slot_id).first()
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
    return SaveResult(True, False, now, remaining_seconds(locked, now))


def submit_attempt(attempt: Attempt, *, user: Any = None, submitted_by: str = Attempt.BY_STUDENT,
                   now: datetime | None = None) -> Attempt:
    """Close the attempt and grade what was saved. Idempotent: submitting twice changes nothing."""
    from exams.grading import grade_submitted_responses, load_variants

    now = now or clock.now()
    if user is not None and attempt.student_id != user.pk:
        raise NotYourAttempt("No such attempt.")
    if Attempt.objects.filter(pk=attempt.pk, state=Attempt.SUBMITTED).exists():
        return Attempt.objects.get(pk=attempt.pk)
    # Variants not cached yet are generated through the runner HERE, before the transaction: SQLite holds its
    # write lock from the first statement of a transaction (IMMEDIATE), and a sandbox run must not hold it.
    variants = load_variants(attempt)
    with transaction.atomic():
        locked = Attempt.objects.select_for_update().get(pk=attempt.pk)
        if locked.state == Attempt.SUBMITTED:
            return locked
        if is_overdue(locked, now):
            submitted_by = Attempt.BY_TIMER
        locked.state = Attempt.SUBMITTED
        # An attempt cannot end after its deadline: a submit inside the grace period counts as on time.
        locked.submitted_at = min(now, locked.deadline) if locked.deadline else now
        locked.submitted_by = submitted_by
        locked.save(update_fields=["state", "submitted_at", "submitted_by"])
        grade_submitted_responses(locked, variants, now=now)
    locked.refresh_from_db()
    return locked


def expire_overdue_attempts(now: datetime | None = None) -> int:
    """Submit every attempt whose time ran out (students who closed the browser). Returns how many."""
    now = now or clock.now()
    overdue = list(Attempt.objects.filter(state=Attempt.IN_PROGRESS, deadline__lt=now - _grace())
                   .values_list("pk", flat=True))
    submitted = 0
    for attempt_id in overdue:
        try:
            attempt = Attempt.objects.get(pk=attempt_id)
            if attempt.state == Attempt.IN_PROGRESS:
                submit_attempt(attempt, submitted_by=Attempt.BY_TIMER, now=now)
                submitted += 1
        except Exception:  # one broken attempt must not stop the others from closing
            logger.exception("auto-submit of attempt %s failed", attempt_id)
    return submitted
