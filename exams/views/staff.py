"""What instructors and TAs see: course page, assessment page with publish + progress, manual grading,
gradebook and CSV downloads, regrade. Staff of other courses get 404s (exams.permissions)."""
from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Q
from django.http import HttpRequest, HttpResponse, JsonResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from exams import assembly, attempts, exports, grading, lms_exports, publishing, regrade_requests, rubrics
from exams import gradebook as gradebook_service
from exams.forms import ExcuseForm, ManualGradeForm, OverrideForm, RegradeForm, RosterUploadForm
from exams.grade_changes import is_override
from exams.models import Assessment, AttemptSlot, Course, Response
from exams.questions import unavailable_question
from exams.permissions import (
    assessment_for_manager,
    assessment_for_staff,
    attempt_for_staff,
    can_manage,
    course_for_staff,
    response_for_staff,
)
from exams.views.presentation import gradebook_table, question_context
from quizbank.models import Template
from quizbank.services import variant_for


def course_context(request: HttpRequest, course: Course) -> dict[str, Any]:
    """What the course page shows (also re-rendered by the roster upload when a row is bad)."""
    assessments = course.assessments.select_related("category").annotate(
        attempt_count=Count("attempts", distinct=True),
        manual_pending=Count("attempts__responses", filter=Q(attempts__responses__grading_state=Response.MANUAL)),
        grading_errors=Count("attempts__responses", filter=Q(attempts__responses__grading_state=Response.ERROR)),
    )
    return {
        "stuck_attempts": list(attempts.stuck_attempts(assessment__course=course)),
        "course": course,
        "assessments": assessments,
        "manual_items": course.manual_items.all(),
        "can_manage": can_manage(request.user, course),
        "student_count": course.memberships.filter(role="student").count(),
        "roster_form": RosterUploadForm(),
    }


@login_required
@require_GET
def course_page(request: HttpRequest, course_id: int) -> HttpResponse:
    course = course_for_staff(request.user, course_id)
    return render(request, "exams/course.html", course_context(request, course))


@login_required
@require_GET
def assessment_page(request: HttpRequest, assessment_id: int) -> HttpResponse:
    assessment = assessment_for_staff(request.user, assessment_id)
    templates_in_use = Template.objects.filter(
        pk__in=AttemptSlot.objects.filter(attempt__assessment=assessment).values("template_id")
    ).order_by("slug")
    return render(request, "exams/assessment_manage.html", {
        "assessment": assessment,
        "course": assessment.course,
        "can_manage": can_manage(request.user, assessment.course),
        "blueprint_problems": [] if assessment.is_published else assembly.check_blueprint(assessment),
        "publishing": publishing.is_publishing(assessment),
        "publication_problems": publication_problems(assessment),
        "templates_in_use": templates_in_use,
        "attempt_count": assessment.attempts.count(),
        "manual_pending": Response.objects.filter(attempt__assessment=assessment,
                                                  grading_state=Response.MANUAL).count(),
        "overrides": assessment.overrides.select_related("student").order_by("student__last_name", "student__username"),
        "excusals": assessment.excusals.select_related("student").order_by("student__last_name", "student__username"),
        "override_form": OverrideForm(assessment.course),
        "excuse_form": ExcuseForm(assessment.course),
    })


@login_required
@require_POST
def publish_assessment(request: HttpRequest, assessment_id: int) -> HttpResponse:
    assessment = assessment_for_manager(request.user, assessment_id)
    try:
        publishing.start_publishing(assessment, by=request.user)
    except assembly.AssemblyError as problem:
        messages.error(request, f"Not published: {problem}")
    else:
        messages.success(request, f"Publishing {assessment.title}: every template it can draw is checked and the "
                                  "class's questions are prepared. Students can start once it says Published.")
    return redirect("exams:manage_assessment", assessment_id=assessment.pk)


def publication_problems(assessment: Assessment) -> list[dict[str, Any]]:
    """The pre-flight's failures, each with links to fix the template (admin) and preview it."""
    listed = []
    for problem in assessment.preflight_problems or []:
        template_id = problem.get("template_id")
        listed.append({**problem,
                       "fix_url": reverse("admin:quizbank_template_change", args=[template_id]) if template_id else "",
                       "preview_url": reverse("admin:quizbank_template_preview", args=[template_id]) if template_id else ""})
    return listed


@never_cache
@login_required
@require_GET
def publish_progress(request: HttpRequest, assessment_id: int) -> JsonResponse:
    assessment = assessment_for_staff(request.user, assessment_id)
    return JsonResponse({
        "state": assessment.state,
        "publishing": publishing.is_publishing(assessment),
        "status": assessment.pregen_state,
        "done": assessment.pregen_done,
        "total": assessment.pregen_total,
        "message": assessment.pregen_message,
        "problems": publication_problems(assessment),
    })


@login_required
@require_GET
def grading_queue(request: HttpRequest, assessment_id: int) -> HttpResponse:
    assessment = assessment_for_staff(request.user, assessment_id)
    return render(request, "exams/grading_queue.html", {
        "assessment": assessment,
        "course": assessment.course,
        "responses": _manual_responses(assessment),
        "grading_errors": grading.grading_errors(assessment),
        "stuck_attempts": list(attempts.stuck_attempts(assessment=assessment)),
        "questions": rubrics.question_templates(assessment),
        "open_regrades": regrade_requests.open_requests(assessment).filter(state="open").count(),
    })


@login_required
@require_POST
def retry_grading(request: HttpRequest, response_id: int) -> HttpResponse:
    response = response_for_staff(request.user, response_id)
    who = response.attempt.student.get_full_name() or response.attempt.student.username
    try:
        retried = grading.retry_response_grading(response, request.user)
    except ValueError as problem:
        messages.warning(request, str(problem))
    else:
        if retried.grading_state == Response.ERROR:
            messages.error(request, f"Question {response.slot.position} of {who} still cannot be graded "
                                    f"automatically: {retried.grading_error}")
        else:
            messages.success(request, f"Question {response.slot.position} of {who} was graded automatically.")
    return redirect("exams:grading_queue", assessment_id=response.attempt.assessment_id)


@login_required
@require_POST
def force_submit_attempt(request: HttpRequest, attempt_id: int) -> HttpResponse:
    attempt = attempt_for_staff(request.user, attempt_id)
    who = attempt.student.get_full_name() or attempt.student.username
    try:
        attempts.force_submit(attempt, request.user)
    except attempts.AttemptClosed as refusal:
        messages.warning(request, refusal.message)
    else:
        messages.success(request, f"{who}'s attempt at {attempt.assessment.title} is submitted.")
    if request.POST.get("back") in ("course", "gradebook"):  # a fixed choice: never an arbitrary URL
        return redirect(f"exams:{request.POST['back']}", course_id=attempt.assessment.course_id)
    return redirect("exams:grading_queue", assessment_id=attempt.assessment_id)


@login_required
@require_http_methods(["GET", "POST"])
def grade_response_page(request: HttpRequest, response_id: int) -> HttpResponse:
    response = response_for_staff(request.user, response_id)
    assessment = response.attempt.assessment
    override = is_override(response)
    form = ManualGradeForm(request.POST or None, override=override, initial={
        "score_percent": None if response.score is None else round(response.score * 100, 2),
        "feedback": response.feedback if response.graded_by_id else "",  # not the "graded by your instructor" note
    })
    neighbours = list(_manual_responses(assessment).values_list("pk", flat=True))
    position = neighbours.index(response.pk) if response.pk in neighbours else -1
    previous_id = neighbours[position - 1] if position > 0 else None
    next_id = neighbours[position + 1] if 0 <= position < len(neighbours) - 1 else None
    if request.method == "POST" and form.is_valid():
        try:
            grading.grade_manually(response, request.user, form.score_fraction, form.cleaned_data["feedback"],
                                   reason=form.cleaned_data.get("reason", ""))
        except PermissionDenied:
            raise
        except ValueError as problem:
            form.add_error("score_percent", str(problem))
        else:
            messages.success(request, f"Saved: {form.cleaned_data['score_percent']}% for "
                                      f"{response.attempt.student.get_full_name() or response.attempt.student.username}, "
                                      f"question {response.slot.position}.")
            if form.cleaned_data["go_next"] and next_id:
                return redirect("exams:grade_response", response_id=next_id)
            return redirect("exams:grade_response", response_id=response.pk)
    slot = response.slot
    try:
        variant = variant_for(slot.template_version, slot.seed)  # staff page: the rubric lives in the key
        public, key = variant.public, variant.key
    except Exception:  # a broken template: staff still read the answer and grade it by hand
        public, key = unavailable_question(slot.qtype), {}
    return render(request, "exams/grade_response.html", {
        "response": response,
        "assessment": assessment,
        "course": assessment.course,
        "student": response.attempt.student,
        "question": question_context(public, question=_SlotText(slot.pk, slot.position, response.text)),
        "rubric": rubrics.rubric_text(key.get("rubric") or (slot.template_version.spec.get("answer") or {}).get("rubric", "")),
        "model_answer_html": grading.model_answer_html(key),
        "form": form,
        "override": override,
        "may_override": can_manage(request.user, assessment.course),
        "previous_id": previous_id,
        "next_id": next_id,
        "position": position + 1,
        "total": len(neighbours),
    })


class _SlotText:
    """The few attributes question_context reads, for a response seen by a grader."""

    def __init__(self, slot_id: int, position: int, text: str):
        self.slot_id, self.position, self.text, self.saved_at = slot_id, position, text, None


def _manual_responses(assessment: Assessment):
    """Manually graded answers of submitted attempts, graded or not, in a stable order for next/previous."""
    return (Response.objects
            .filter(attempt__assessment=assessment, attempt__state="submitted")
            .filter(Q(grading_state=Response.MANUAL) | Q(graded_by__isnull=False))
            .select_related("attempt__student", "slot__template")
            .order_by("slot__template__slug", "attempt__student__username", "attempt__number"))


@login_required
@require_GET
def gradebook_page(request: HttpRequest, course_id: int) -> HttpResponse:
    course = course_for_staff(request.user, course_id)
    return render(request, "exams/gradebook.html", {
        "course": course,
        "table": gradebook_table(gradebook_service.gradebook(course)),
        "stuck_attempt_ids": set(attempts.stuck_attempts(assessment__course=course).values_list("pk", flat=True)),
        "lms_layouts": lms_exports.LAYOUT_INFO,
        "preferred_lms": lms_exports.preferred_layout(),
    })


@login_required
@require_GET
def gradebook_csv(request: HttpRequest, course_id: int) -> StreamingHttpResponse:
    course = course_for_staff(request.user, course_id)
    return _csv_response(exports.gradebook_csv(course), exports.gradebook_csv_filename(course))


@login_required
@require_GET
def responses_csv(request: HttpRequest, assessment_id: int) -> StreamingHttpResponse:
    assessment = assessment_for_staff(request.user, assessment_id)
    return _csv_response(exports.responses_csv(assessment), exports.responses_csv_filename(assessment))


def _csv_response(rows, filename: str) -> StreamingHttpResponse:
    response = StreamingHttpResponse(rows, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "no-store, private"
    return response


@login_required
@require_POST
def regrade_template(request: HttpRequest, assessment_id: int) -> HttpResponse:
    assessment = assessment_for_manager(request.user, assessment_id)
    form = RegradeForm(request.POST)
    template = None
    if form.is_valid():
        template = Template.objects.filter(
            pk=form.cleaned_data["template_id"],
            pk__in=AttemptSlot.objects.filter(attempt__assessment=assessment).values("template_id"),
        ).first()
    if template is None:
        messages.error(request, "That template is not used by this assessment.")
    else:
        report = grading.regrade_template(template, course=assessment.course, by=request.user)
        messages.success(request, f"Regraded {template.slug} with its current version: {report.responses} "
                                  f"responses checked, {report.changed} scores changed, {report.queued} code "
                                  f"answers queued for the runner.")
        if report.kept_overrides:
            messages.info(request, f"{report.kept_overrides} response{'s were' if report.kept_overrides != 1 else ' was'} "
                                   f"left alone because staff graded {'them' if report.kept_overrides != 1 else 'it'} "
                                   f"by hand.")
        if report.errors:
            messages.error(request, f"{report.errors} answer{'s' if report.errors != 1 else ''} to {template.slug} "
                                    f"could not be graded automatically: see the grading queue.")
    return redirect("exams:manage_assessment", assessment_id=assessment.pk)
