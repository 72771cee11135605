"""Grading: inline at submission (MCQ, short answer, code output), through the runner in Celery (code
completion), by a person (manual answers), and again after a template is fixed (regrade)."""
from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import connection, transaction
from django.db.models import Q

from exams import audit, clock, dispatch
from exams.access import is_course_staff
from exams.locks import lock_attempt, locked_responses
from exams.models import Attempt, Response
from exams.questions import preparing_question, unavailable_question
from quizbank.checking import CheckResult, check
from quizbank.models import Template, TemplateVersion, Variant
from quizbank.spec import Problem, TemplateError

logger = logging.getLogger(__name__)

# A claim older than this belongs to a worker that died mid-grading; another worker may take it over
# (settings.GRADING_STALE_CLAIM_SECONDS; this is its default). A code job is bounded by the runner's limits
# (seconds), so the default leaves a wide margin.
STALE_CLAIM = timedelta(minutes=5)
# What the student reads for an answer whose automatic grading failed; the reason is for staff only.
ERROR_FEEDBACK = "This answer could not be graded automatically; your instructor has been told."
WAITING_FEEDBACK = "This answer is being graded; its score appears here in a moment."
MAX_ERROR_CHARS = 2000


@dataclass(frozen=True)
class RegradeReport:
    responses: int
    changed: int
    queued: int
    errors: int = 0
    kept_overrides: int = 0  # responses staff graded by hand, left alone
    kept_response_ids: tuple[int, ...] = ()


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
    model_answer_html: str | None = None


@dataclass(frozen=True)
class AttemptReview:
    results_released: bool
    answers_released: bool
    score: float | None
    pending_count: int
    items: list[ReviewItem]
    # Answers a machine is grading now (the runner, or a worker making the variant): the page refreshes for them.
    # Answers waiting for a person are pending too, but may wait for days: no refresh for those.
    machine_pending: int = 0


def stale_claim() -> timedelta:
    seconds = getattr(settings, "GRADING_STALE_CLAIM_SECONDS", None)
    return timedelta(seconds=seconds) if seconds else STALE_CLAIM


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


def error_reason(error: BaseException) -> str:
    """What staff read in Response.grading_error / Attempt.close_error: the exception type and message."""
    reason = f"{type(error).__name__}: {error}"
    return reason if len(reason) <= MAX_ERROR_CHARS else reason[:MAX_ERROR_CHARS - 1] + "…"


def _fetch_variant(version: TemplateVersion, seed: int) -> Variant | Exception:
    """The cached variant, generated through the runner on a miss (blocking: never inside a transaction).
    Whatever stops it (a broken template, the runner down) is returned, so that response alone goes to ERROR."""
    from quizbank import services as bank

    try:
        return bank.variant_for(version, seed)
    except Exception as error:
        logger.warning("variant %s seed %s could not be loaded: %s", version.pk, seed, error_reason(error))
        return error


class VariantNotPrepared(TemplateError):
    """A variant a web process of the production profile may not generate (that would run template code and
    start a runner pool in it): the response waits in ERROR with this reason until a grading worker makes
    the variant and grades it (`grade_unprepared_responses`)."""


NOT_PREPARED = "the question was not prepared before the submit; a grading worker prepares and grades it"


# A response waiting for a grading worker to make its variant (and then grade it): in ERROR with this reason.
_WAITING_REASON = f"{VariantNotPrepared.__name__}:"
WAITING_FOR_VARIANT = Q(grading_state=Response.ERROR, grading_error__startswith=_WAITING_REASON)


def waits_for_variant(response: Response) -> bool:
    """WAITING_FOR_VARIANT, for a response already loaded."""
    return response.grading_state == Response.ERROR and response.grading_error.startswith(_WAITING_REASON)


def web_generates_variants() -> bool:
    """settings.QUIZ_PAGE_GENERATES_VARIANTS: on (the embedded profile) a page or a submit generates a missing
    variant where it runs; off (the production profile) only workers run template code."""
    return getattr(settings, "QUIZ_PAGE_GENERATES_VARIANTS", True)


def load_variants(attempt: Attempt, *, generate: bool = True) -> dict[int, tuple[TemplateVersion, Variant | Exception]]:
    """Every slot's template version and variant (or the TemplateError that stops it), by slot id. Call it
    BEFORE opening the transaction that grades: a cache miss runs the sandbox, and SQLite (transaction_mode
    IMMEDIATE) holds its write lock for the whole transaction, so no other student could save meanwhile.
    `generate=False`: a variant not stored yet is VariantNotPrepared, and nothing runs here."""
    from quizbank import services as bank

    slots = list(attempt.slots.select_related("template_version"))
    stored = bank.stored_variants((slot.template_version_id, slot.seed) for slot in slots)  # one query, not one per slot

    def variant(slot: Any) -> Variant | Exception:
        found = stored.get((slot.template_version_id, slot.seed))
        if found is not None:
            return found
        if not generate:
            return VariantNotPrepared(Problem("grading", NOT_PREPARED), seed=slot.seed)
        return _fetch_variant(slot.template_version, slot.seed)

    return {slot.pk: (slot.template_version, variant(slot)) for slot in slots}


def grade_unprepared_responses(attempt_id: int, now: datetime | None = None) -> int:
    """Grading worker: make the variants a submit found missing (batched, as pre-generation does) and grade
    the responses that wait for them, each once: only responses still in ERROR for that reason are taken,
    under the attempt's lock. Raises RunnerUnavailable so the task retries. Returns how many were graded."""
    from exams.assembly import prepare_attempt_variants
    from quizbank.engine import RunnerUnavailable

    # Marks this run (and each retry of it) alive, so the sweep does not send another while it works.
    if not Response.objects.filter(WAITING_FOR_VARIANT, attempt_id=attempt_id).update(grading_claimed_at=clock.now()):
        return 0
    prepare_attempt_variants(attempt_id)
    variants = load_variants(Attempt.objects.get(pk=attempt_id))
    unavailable = next((variant for _, variant in variants.values() if isinstance(variant, RunnerUnavailable)), None)
    if unavailable is not None:
        raise unavailable
    now = now or clock.now()
    with transaction.atomic():
        lock_attempt(attempt_id)
        responses = list(locked_responses(WAITING_FOR_VARIANT, attempt_id=attempt_id).select_related("slot"))
        checked = [response for response in responses
                   if _check_into(response, variants[response.slot_id][1], variants[response.slot_id][0], now)]
        _store_grades(checked)
        _refresh_locked(attempt_id)
    return len(checked)


def _check_with(variant: Variant | Exception, version: TemplateVersion, text: str) -> CheckResult:
    """Check one answer against an already-fetched variant (no runner call). Raises what stopped the variant."""
    if isinstance(variant, Exception):
        raise variant
    return check(variant.public, variant.key, (version.spec or {}).get("answer") or {}, text)


def _error_fields(version: TemplateVersion | None, error: BaseException) -> dict[str, Any]:
    return {"grading_state": Response.ERROR, "score": None, "valid": True, "feedback": ERROR_FEEDBACK,
            "feedback_data": {}, "grading_error": error_reason(error), "graded_version": version,
            "graded_at": None, "graded_by": None, "grading_claimed_at": None}


def _mark_error(response: Response, version: TemplateVersion | None, error: BaseException) -> None:
    fields = _error_fields(version, error)
    for name, value in fields.items():
        setattr(response, name, value)
    try:
        with transaction.atomic():  # a savepoint: a failing write here must not poison the caller's transaction
            Response.objects.filter(pk=response.pk).update(**fields)
    except Exception:
        logger.exception("response %s: could not even record that its grading failed", response.pk)


# What checking an answer sets on its response (the answer itself is the student's and stays as saved).
GRADE_FIELDS = ["graded_version", "feedback", "feedback_data", "graded_by", "grading_state", "score", "valid",
                "graded_at", "grading_error", "grading_claimed_at"]


def _grade_one(response: Response, variant: Variant | Exception, version: TemplateVersion, now: datetime) -> bool:
    """Check and store one response inside its own savepoint. Whatever the checker, the variant or the write
    raises, the response goes to ERROR with the reason for staff, and the caller's transaction stays usable.
    Returns False for an ERROR."""
    return _check_into(response, variant, version, now) and bool(_store_grades([response]))


def _check_into(response: Response, variant: Variant | Exception, version: TemplateVersion, now: datetime) -> bool:
    """Check one answer and set the grade on `response` (not stored yet). When checking raises, the response
    goes to ERROR (stored, with the reason for staff) and this returns False. An answer whose variant is not
    prepared is set waiting (ERROR with that reason, `grading_claimed_at` = when a worker was asked) and
    returns True: it is stored with the batch, and it is no failure to log."""
    if isinstance(variant, VariantNotPrepared):
        # It has not failed: the student reads that it is being graded.
        waiting = {**_error_fields(version, variant), "feedback": WAITING_FEEDBACK, "grading_claimed_at": now}
        for name, value in waiting.items():
            setattr(response, name, value)
        return True
    try:
        result = _check_with(variant, version, response.text)
        _apply_check(response, result, version, now)
        response.grading_error = ""
        response.grading_claimed_at = None
    except Exception as error:
        _grading_failed(response, version, error)
        return False
    return True


def _store_grades(responses: list[Response]) -> list[Response]:
    """Store checked grades in one savepoint and one round of statements (`_write_grades`); when the database
    refuses one row, each again in its own savepoint, so that only the row it refuses goes to ERROR. Code
    answers are sent to the runner once their grade row commits. Returns the responses stored."""
    if not responses:
        return []
    try:
        with transaction.atomic():
            _write_grades(responses)
        stored = responses
    except Exception:
        stored = []
        for response in responses:
            try:
                with transaction.atomic():
                    response.save(update_fields=GRADE_FIELDS)
                stored.append(response)
            except Exception as error:
                _grading_failed(response, response.graded_version, error)
    for response in stored:
        if response.grading_state == Response.QUEUED:
            dispatch.send_code_grading_on_commit(response.pk)
    return stored


def _write_grades(responses: list[Response]) -> None:
    """The grade columns of these responses, one UPDATE per row sent with executemany (one round trip in
    psycopg's pipeline). Measured on a 500-student submit wave: the ORM's save() per row spent more CPU
    compiling the statement than the database spent running it, and bulk_update's CASE WHEN per field and row
    cost more again. Values are prepared by the model's own fields, as save() prepares them."""
    fields = [Response._meta.get_field(name) for name in GRADE_FIELDS]
    quote = connection.ops.quote_name
    sql = (f"UPDATE {quote(Response._meta.db_table)} SET "
           + ", ".join(f"{quote(field.column)} = %s" for field in fields)
           + f" WHERE {quote(Response._meta.pk.column)} = %s")
    rows = [[field.get_db_prep_save(getattr(response, field.attname), connection) for field in fields]
            + [response.pk] for response in responses]
    with connection.cursor() as cursor:
        cursor.executemany(sql, rows)


def _grading_failed(response: Response, version: TemplateVersion | None, error: BaseException) -> None:
    logger.warning("response %s could not be graded automatically: %s", response.pk, error_reason(error),
                   exc_info=True)
    _mark_error(response, version, error)


def grade_submitted_responses(attempt: Attempt, variants: dict[int, tuple[TemplateVersion, Variant | Exception]], *,
                              now: datetime | None = None) -> tuple[float, int]:
    """Grade every response of a just-submitted attempt (called inside submit's transaction) against the
    versions and variants `load_variants` fetched before the transaction opened: nothing here runs the
    sandbox. A response that cannot be graded goes to ERROR; it never stops the others or the submit.
    Returns the attempt's (score, pending count) from the responses it holds locked, for the caller to store
    (the caller holds the attempt's lock)."""
    now = now or clock.now()
    # of=("self",): lock the responses only, not the slots joined for reading (shared rows must never be locked
    # on this path: exams.locks). The versions come from load_variants: their specs are not read twice.
    responses = list(locked_responses(attempt_id=attempt.pk).select_related("slot"))
    checked = []
    for response in responses:
        version, variant = variants.get(response.slot_id) or (None, None)
        if version is None or variant is None:  # not fetched beforehand: never generate while holding the lock
            version = version or response.slot.template_version
            variant = TemplateError(Problem("grading", "the question was not prepared before grading; regrade it"),
                                    seed=response.slot.seed)
        if _check_into(response, variant, version, now):
            checked.append(response)
    _store_grades(checked)
    return attempt_totals(responses)


def attempt_totals(responses: list[Response]) -> tuple[float, int]:
    """(score, pending count) of an attempt from all its responses: sum of scores / slot count, ungraded as 0."""
    if not responses:
        return 0.0, 0
    total = sum(response.score for response in responses if response.score is not None)
    return total / len(responses), sum(1 for response in responses if response.grading_state in Response.PENDING_STATES)


def flag_ungraded_responses(attempt_id: int, error: BaseException) -> Attempt:
    """Last resort when grading an attempt failed as a whole: every response not graded yet goes to ERROR,
    so the attempt still closes and staff see why."""
    with transaction.atomic():
        Response.objects.filter(attempt_id=attempt_id, grading_state=Response.UNSUBMITTED).update(
            **_error_fields(None, error))
        return _refresh_locked(attempt_id)


def _refresh_locked(attempt_id: int) -> Attempt:
    attempt = lock_attempt(attempt_id)
    attempt.score, attempt.pending_count = attempt_totals(
        list(Response.objects.filter(attempt_id=attempt_id).order_by().only("score", "grading_state")))
    attempt.save(update_fields=["score", "pending_count"])
    return attempt


def refresh_attempt_score(attempt_id: int) -> Attempt:
    """Attempt score = sum of slot scores / slot count (ungraded slots count 0 until graded)."""
    with transaction.atomic():
        return _refresh_locked(attempt_id)


def grade_code_response(response_id: int) -> bool:
    """Celery task body. Claims the response with a conditional UPDATE (GONE: another worker has it, or it is
    already graded), runs the student's code against the tests OUTSIDE any transaction, then stores score and
    feedback only if its claim still stands: a worker whose claim went stale and was taken over writes nothing,
    so an answer is graded once however many workers ran it. True iff this call stored the grade.
    Raises RunnerUnavailable (after releasing the claim) so the task can retry."""
    from quizbank.completion import grade_completion
    from quizbank.engine import RunnerUnavailable
    from quizbank import services as bank

    from exams.fair_use import CLAIMED, claim_code_grading

    claimed_at = clock.now()
    # Refused when taken, graded, or when the student already has RUNNER_MAX_JOBS_PER_STUDENT jobs running
    # (then it stays QUEUED for exams.fair_use.dispatch_waiting).
    if claim_code_grading(response_id, claimed_at, stale_claim()) != CLAIMED:
        return False
    mine = Response.objects.filter(pk=response_id, grading_state=Response.GRADING, grading_claimed_at=claimed_at)
    response = Response.objects.select_related("slot__template_version").get(pk=response_id)
    version = response.graded_version or response.slot.template_version
    try:
        variant = bank.variant_for(version, response.slot.seed)
        grade = grade_completion(version.to_spec(), response.slot.seed, variant.key["expected_tests"], response.text)
        graded = {"score": float(grade.score), "feedback": grade.summary,
                  "feedback_data": grade.student_feedback()}
    except RunnerUnavailable:
        mine.update(grading_state=Response.QUEUED, grading_claimed_at=None)
        raise
    except Exception as error:  # whatever else: staff see it and retry; the task must not loop on it
        logger.warning("code response %s could not be graded: %s", response_id, error_reason(error), exc_info=True)
        with transaction.atomic():
            lock_attempt(response.attempt_id)
            written = mine.update(**_error_fields(version, error))
            _refresh_locked(response.attempt_id)
        return bool(written)
    with transaction.atomic():
        lock_attempt(response.attempt_id)
        written = mine.update(grading_state=Response.GRADED, valid=True, graded_at=clock.now(),
                              graded_version=version, graded_by=None, grading_error="", grading_claimed_at=None,
                              **graded)
        _refresh_locked(response.attempt_id)
    if not written:
        logger.warning("code response %s: this worker's claim was taken over (stale); its grade is not stored",
                       response_id)
    return bool(written)


def grade_manually(response: Response, grader: Any, score: float, feedback: str = "", *, reason: str = "",
                   now: datetime | None = None) -> Response:
    """A person's grade. `score` is a fraction in [0, 1]. Grading an answer that waits for a person is for any
    staff; replacing an automatic or an instructor's grade is an override: instructors only, with a `reason`
    (exams.grade_changes). Either way the change is recorded in the audit log with the grade before and after."""
    from exams.grade_changes import check_grade_change, grade_snapshot

    course = response.attempt.assessment.course
    if not is_course_staff(course, grader):
        raise PermissionDenied("Only the course's instructors and TAs grade answers.")
    score = float(score)
    if not 0.0 <= score <= 1.0:
        raise ValueError("A score must be between 0 and 1.")
    if response.attempt.state != Attempt.SUBMITTED:
        raise ValueError("This attempt has not been submitted yet.")
    now = now or clock.now()
    with transaction.atomic():
        lock_attempt(response.attempt_id)
        locked = (locked_responses(pk=response.pk)
                  .select_related("slot__template_version", "attempt__assessment__course", "attempt__student",
                                  "graded_by").get())
        action = check_grade_change(locked, grader, reason)  # on the locked row: the grade it would replace
        before = grade_snapshot(locked)
        Response.objects.filter(pk=response.pk).update(
            grading_state=Response.GRADED, score=score, valid=True, feedback=feedback,
            graded_at=now, graded_by=grader)
        _refresh_locked(response.attempt_id)
        locked.refresh_from_db()
        audit.record(actor=grader, action=action, course=course, target=locked, before=before,
                     after=grade_snapshot(locked), reason=reason.strip(), now=now)
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
    response_ids = list(responses.order_by("pk").values_list("pk", flat=True))
    by_hand = Response.objects.filter(slot__template=template, attempt__state=Attempt.SUBMITTED,
                                      graded_by__isnull=False)
    if course is not None:
        by_hand = by_hand.filter(attempt__assessment__course=course)
    kept_ids = tuple(by_hand.order_by("pk").values_list("pk", flat=True))
    changed = queued = errors = 0
    variants: dict[int, Variant | Exception] = {}
    for response_id in response_ids:
        try:
            seed = Response.objects.filter(pk=response_id).values_list("slot__seed", flat=True).get()
            if seed not in variants:  # the new version's variant may not exist yet: generate it before locking
                variants[seed] = _fetch_variant(version, seed)
            with transaction.atomic():
                attempt_id = Response.objects.filter(pk=response_id).values_list("attempt_id", flat=True).get()
                lock_attempt(attempt_id)
                response = locked_responses(pk=response_id).select_related("slot").get()
                before = (response.score, response.valid, response.grading_state)
                if not _grade_one(response, variants[seed], version, now):
                    errors += 1
                if response.grading_state == Response.QUEUED:
                    queued += 1
                elif (response.score, response.valid, response.grading_state) != before:
                    changed += 1
                _refresh_locked(attempt_id)
        except Exception:  # one response (a row gone, a lock error) must not stop the rest of the regrade
            logger.exception("regrade of response %s with %s v%s failed", response_id, template.slug,
                             version.number)
            errors += 1
    logger.info("regraded %s with v%s: %d responses, %d changed, %d queued, %d errors (by %s)",
                template.slug, version.number, len(response_ids), changed, queued, errors, by)
    report = RegradeReport(len(response_ids), changed, queued, errors, len(kept_ids), kept_ids)
    with transaction.atomic():
        audit.record(actor=by, action=audit.GRADE_REGRADE, course=course, target=version, now=now,
                     after={"template": template.slug, "version": version.number, "responses": report.responses,
                            "changed": changed, "queued": queued, "errors": errors,
                            "kept_overrides": report.kept_overrides, "kept_response_ids": list(kept_ids)})
    return report


def retry_response_grading(response: Response, by: Any, *, now: datetime | None = None) -> Response:
    """Staff re-run automatic grading of a response in ERROR once its cause is fixed (a new template version,
    a fixed checker). It grades with the template's CURRENT version for the slot's seed, as a regrade does.
    Still failing: it stays ERROR with the new reason. Recorded in the audit log either way."""
    course = response.attempt.assessment.course
    if not is_course_staff(course, by):
        raise PermissionDenied("Only the course's instructors and TAs retry grading.")
    if response.grading_state != Response.ERROR:
        raise ValueError("Only an answer whose automatic grading failed can be retried.")
    now = now or clock.now()
    slot = response.slot
    template = Template.objects.select_related("current_version").get(pk=slot.template_id)  # fresh: just fixed?
    version = template.current_version or slot.template_version
    variant = _fetch_variant(version, slot.seed)  # outside the transaction: a cache miss runs the sandbox
    with transaction.atomic():
        lock_attempt(response.attempt_id)
        locked = (locked_responses(pk=response.pk)
                  .select_related("slot__template", "attempt__assessment", "attempt__student").get())
        if locked.grading_state != Response.ERROR:  # graded or retried by someone else meanwhile
            return locked
        before = {"grading_state": locked.grading_state, "grading_error": locked.grading_error,
                  "graded_version": locked.graded_version_id}
        _grade_one(locked, variant, version, now)
        _refresh_locked(locked.attempt_id)
        audit.record(actor=by, action=audit.GRADE_RETRY, course=course, target=locked, before=before,
                     after={"grading_state": locked.grading_state, "score": locked.score,
                            "grading_error": locked.grading_error, "graded_version": version.pk}, now=now)
    return locked


def grading_errors(assessment: Any):
    """Responses of submitted attempts whose automatic grading failed, for the grading queue."""
    return (Response.objects.filter(attempt__assessment=assessment, attempt__state=Attempt.SUBMITTED,
                                    grading_state=Response.ERROR)
            .select_related("attempt__student", "slot__template__current_version", "graded_version")
            .order_by("slot__template__slug", "attempt__student__username", "attempt__number"))


def model_answer_html(key: dict[str, Any]) -> str:
    """A manual question's model answer for its variant; templates written before the model-answer part
    carried it in the explanation."""
    return str(key.get("model_answer_html") or key.get("explanation_html") or "")


def _correct_answer_text(public: dict[str, Any], key: dict[str, Any]) -> str | None:
    if public.get("kind") == "mcq" and "correct_index" in key:
        options = public.get("options") or []
        index = key["correct_index"]
        return f"{chr(65 + index)}. {options[index]['text']}" if 0 <= index < len(options) else str(index)
    if public.get("kind") == "completion":
        return str(key.get("reference", ""))
    if public.get("answer_format") == "manual":  # never the grader's rubric: the model answer is the explanation
        return None
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
    # The versions' specs are read only for a variant that is not stored (rare): not decoded for every page.
    slots = list(attempt.slots.select_related("template_version", "response").defer("template_version__spec")
                 .order_by("position"))
    stored = bank.stored_variants((slot.template_version_id, slot.seed) for slot in slots)  # one query for all
    generate = web_generates_variants()
    for slot in slots:
        try:
            variant = stored.get((slot.template_version_id, slot.seed))
            if variant is None and not generate:  # never made here: a worker is making it, or it cannot be made
                waiting = attempt.state != Attempt.SUBMITTED or _graded_by_a_machine_soon(slot.response)
                stand_in = preparing_question(slot.qtype, submitted=True) if waiting else unavailable_question(slot.qtype)
                items.append(_review_item(slot, stand_in, {}, results, answers))
                continue
            variant = variant or bank.variant_for(slot.template_version, slot.seed)
            public, key = variant.public, variant.key
        except Exception as error:  # a broken template or a runner outage must not take the results page down
            logger.warning("review of attempt %s slot %s: %s", attempt.pk, slot.position, error_reason(error))
            public, key = unavailable_question(slot.qtype), {}
        items.append(_review_item(slot, public, key, results, answers))
    machine_pending = sum(1 for slot in slots if _graded_by_a_machine_soon(slot.response)) if results else 0
    return AttemptReview(results, answers, attempt.score if results else None,
                         attempt.pending_count if results else 0, items, machine_pending)


def _graded_by_a_machine_soon(response: Response) -> bool:
    return response.grading_state in (Response.QUEUED, Response.GRADING) or waits_for_variant(response)


def _review_item(slot: Any, public: dict[str, Any], key: dict[str, Any], results: bool, answers: bool) -> ReviewItem:
    response = slot.response
    return ReviewItem(
        slot_id=slot.pk, position=slot.position, qtype=slot.qtype, public=public, text=response.text,
        score=response.score if results else None, valid=response.valid if results else True,
        feedback=response.feedback if results else "",
        feedback_data=response.feedback_data if results else {},
        grading_state=response.grading_state if results else "",
        correct_answer=_correct_answer_text(public, key) if answers and key else None,
        explanation_html=key.get("explanation_html") if answers else None,
        model_answer_html=model_answer_html(key) if answers and public.get("answer_format") == "manual" else None,
    )
