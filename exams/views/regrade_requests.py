"""Regrade requests: a student asks from the results page; staff answer from the assessment's queue. The
services (who may, once per answer, the audit log) are in exams.regrade_requests."""
from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from exams import regrade_requests
from exams.access import attempt_for_student
from exams.models import Attempt, RegradeRequest, Response
from exams.permissions import assessment_for_staff, courses_taught_by
from exams.views.params import id_from


@login_required
@require_POST
def request_regrade(request: HttpRequest, attempt_id: int) -> HttpResponse:
    try:
        attempt = attempt_for_student(request.user, attempt_id)
    except Attempt.DoesNotExist:
        raise Http404("No such attempt") from None
    slot_id = id_from(request.POST.get("slot_id"))
    response = (Response.objects.select_related("attempt__assessment__course", "slot")
                .filter(attempt=attempt, slot_id=slot_id).first() if slot_id is not None else None)
    if response is None:
        raise Http404("No such question")
    try:
        regrade_requests.request_regrade(response, request.user, request.POST.get("reason", ""))
    except ValueError as problem:
        messages.error(request, str(problem))
    else:
        messages.success(request, f"Your regrade request for question {response.slot.position} was sent.")
    return redirect("exams:attempt", attempt_id=attempt.pk)


@login_required
@require_GET
def regrade_queue(request: HttpRequest, assessment_id: int) -> HttpResponse:
    assessment = assessment_for_staff(request.user, assessment_id)
    return render(request, "exams/regrade_requests.html", {
        "assessment": assessment, "course": assessment.course,
        "requests": regrade_requests.open_requests(assessment)})


def _score(text: str) -> float | None:
    text = (text or "").strip()
    if not text:
        return None
    if not text.isascii():
        raise ValueError("Write the score with the digits 0-9.")
    try:
        percent = float(text)
    except ValueError:
        raise ValueError(f"{text!r} is not a score.") from None
    if not 0 <= percent <= 100:
        raise ValueError("A score is between 0 and 100%.")
    return percent / 100


@login_required
@require_POST
def answer_regrade(request: HttpRequest, request_id: int) -> HttpResponse:
    regrade = (RegradeRequest.objects.select_related("response__attempt__assessment__course", "response__slot")
               .filter(pk=request_id, response__attempt__assessment__course__in=courses_taught_by(request.user))
               .first())
    if regrade is None:
        raise Http404("No such regrade request")
    try:
        regrade_requests.answer_request(regrade, request.user, request.POST.get("reply", ""),
                                        _score(request.POST.get("score_percent", "")))
    except PermissionDenied:
        raise
    except ValueError as problem:
        messages.error(request, str(problem))
    else:
        messages.success(request, "Answered.")
    return redirect("exams:regrade_queue", assessment_id=regrade.response.attempt.assessment_id)
