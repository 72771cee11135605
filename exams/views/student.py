"""What a student sees: the start page, the quiz page with autosave and timer, and the result page.

Every lookup goes through exams.permissions (someone else's attempt is a 404); every decision about time,
state and ownership is made by exams.attempts, which the JSON endpoints call on each request.
"""
from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from exams import attempts, clock, gradebook, grading
from exams.analytics.feedback import misconception_notes
from exams.assembly import AssemblyError
from exams.forms import AutosaveError, parse_autosave
from exams.models import Attempt
from exams.permissions import assessment_for_student, attempt_for_student
from exams.views.presentation import question_context, quiz_questions_html

NO_STORE = "no-store, private"


@login_required
@require_GET
def assessment_start_page(request: HttpRequest, assessment_id: int) -> HttpResponse:
    assessment = assessment_for_student(request.user, assessment_id)
    check = attempts.start_check(assessment, request.user, known_enrolled=True)  # assessment_for_student checked
    now = clock.now()
    due_at = check.window.due_at
    return render(request, "exams/assessment_start.html", {
        "assessment": assessment,
        "course": assessment.course,
        "window": check.window,
        "check": check,
        "past_attempts": check.attempts,
        "due_passed": due_at is not None and now > due_at,
        "late_penalty_now": gradebook.late_penalty_percent(assessment.late_policy, now, due_at),
    })


@login_required
@require_POST
def start_attempt(request: HttpRequest, assessment_id: int) -> HttpResponse:
    assessment = assessment_for_student(request.user, assessment_id)
    try:
        attempt = attempts.start_attempt(assessment, request.user, known_enrolled=True)
    except attempts.StartRefused as refusal:
        messages.error(request, refusal.message)
        return redirect("exams:assessment", assessment_id=assessment.pk)
    except AssemblyError:
        messages.error(request, "This assessment cannot be started yet: its questions are not ready. "
                                "Please tell your instructor.")
        return redirect("exams:assessment", assessment_id=assessment.pk)
    return redirect("exams:attempt", attempt_id=attempt.pk)


@never_cache
@login_required
@require_GET
def attempt_page(request: HttpRequest, attempt_id: int) -> HttpResponse:
    attempt = attempt_for_student(request.user, attempt_id)
    remaining = attempts.remaining_seconds(attempt)
    if attempt.is_open and (remaining is None or remaining > 0):
        return _quiz_page(request, attempt, remaining)
    review = grading.attempt_review(attempt)
    notes = misconception_notes(attempt, review)
    refresh_round = _refresh_round(request)
    response = render(request, "exams/attempt_result.html", {
        "attempt": attempt,
        "assessment": attempt.assessment,
        "course": attempt.assessment.course,
        "review": review,
        "late": gradebook.attempt_late_info(attempt),
        "waiting_for_submission": attempt.is_open,  # time is up; the page or the beat job submits it
        # Code being graded: the page looks again after 5 s, then 10, 20, 40, 60... and stops after ~10 minutes
        # (a stopped worker must not have a class reloading every few seconds).
        "refresh_after_ms": (min(REFRESH_MAX_MS, REFRESH_FIRST_MS * 2 ** refresh_round)
                             if review.machine_pending and refresh_round < REFRESH_ROUNDS else None),
        "next_refresh_round": refresh_round + 1,
        "items": [{**question_context(item.public, item=item), "misconception": notes.get(item.slot_id, "")}
                  for item in review.items],
    })
    response["Cache-Control"] = NO_STORE
    return response


REFRESH_FIRST_MS, REFRESH_MAX_MS, REFRESH_ROUNDS = 5_000, 60_000, 12


def _refresh_round(request: HttpRequest) -> int:
    try:
        return max(0, min(REFRESH_ROUNDS, int(request.GET.get("refresh", "0"))))
    except ValueError:
        return 0


def _quiz_page(request: HttpRequest, attempt: Attempt, remaining: int | None) -> HttpResponse:
    questions = attempts.attempt_questions(attempt)
    # Untimed work that only ends at the closing time (e.g. a practice open all term) shows that date, not a
    # countdown of thousands of hours; the page still submits at the deadline.
    # (a student's extension lengthens a time limit but never makes one: the assessment's own setting decides)
    time_limited = remaining is not None and attempt.assessment.time_limit_minutes is not None
    response = render(request, "exams/attempt_quiz.html", {
        "attempt": attempt,
        "assessment": attempt.assessment,
        "course": attempt.assessment.course,
        "questions": questions,
        "question_html": quiz_questions_html(questions),  # cached per variant, the student's answer filled in
        "remaining_seconds": remaining,
        "time_limited": time_limited,
        "closes_at": attempt.deadline if not time_limited else None,
        "loaded_ms": int(clock.now().timestamp() * 1000),  # the server's clock orders tabs and devices
    })
    response["Cache-Control"] = NO_STORE
    return response


@login_required
@require_POST
def autosave(request: HttpRequest, attempt_id: int) -> JsonResponse:
    # The attempt is not loaded here: the service reads it once, locked, and only if it is this student's.
    try:
        body = request.body
    except RequestDataTooBig:
        return _json({"ok": False, "error": "The answer is too large to save."}, status=413)
    try:
        save = parse_autosave(body)
    except AutosaveError as problem:
        return _json({"ok": False, "error": str(problem)}, status=400)
    try:
        result = attempts.autosave(attempt_id, save.slot_id, save.text, user=request.user, client_seq=save.client_seq)
    except attempts.NotYourAttempt:
        return _json({"ok": False, "error": "Not found."}, status=404)
    except (attempts.AttemptClosed, attempts.DeadlinePassed) as refusal:
        return _json({"ok": False, "closed": True, "error": refusal.message}, status=409)
    except attempts.AttemptError as refusal:
        return _json({"ok": False, "error": refusal.message}, status=400)
    return _json({
        "ok": True,
        "slot": save.slot_id,
        "stale": result.stale,
        "saved_at": result.saved_at.isoformat() if result.saved_at else None,
        "remaining_seconds": result.remaining_seconds,
        "format": {"valid": result.verdict.valid, "message": result.verdict.message},
    })


@login_required
@require_GET
def attempt_state(request: HttpRequest, attempt_id: int) -> JsonResponse:
    attempt = attempt_for_student(request.user, attempt_id)
    remaining = attempts.remaining_seconds(attempt)
    state: dict[str, Any] = {
        "state": attempt.state,
        "open": attempt.is_open and (remaining is None or remaining > 0),
        "remaining_seconds": remaining,
    }
    if request.GET.get("waiting") == "1":  # a page showing a question that is being prepared
        state["questions_ready"] = attempts.questions_ready(attempt)
    return _json(state)


@login_required
@require_POST
def submit_attempt(request: HttpRequest, attempt_id: int) -> HttpResponse:
    attempt = attempt_for_student(request.user, attempt_id)
    try:
        # The page's "reason" field is not read: whether time ran out is the server's clock's call.
        attempts.submit_attempt(attempt, user=request.user)
    except attempts.NotYourAttempt:
        return _json({"ok": False}, status=404)
    except attempts.AttemptError as refusal:
        messages.warning(request, refusal.message)
    return redirect(reverse("exams:attempt", kwargs={"attempt_id": attempt.pk}))


def _json(data: dict[str, Any], status: int = 200) -> JsonResponse:
    response = JsonResponse(data, status=status)
    response["Cache-Control"] = NO_STORE
    return response
