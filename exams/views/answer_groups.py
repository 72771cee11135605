"""Answer groups on the grading-by-question page (issue 15): a staff member asks for suggested groups (a task
on the `bulk` queue), the page polls their progress, then the groups page lists each group with its members,
exceptions first, and the rubric items to apply to the members the grader ticked. The services are in
exams.answer_groups; these views stay thin."""
from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from exams import answer_groups, rubrics
from exams.grade_changes import is_override
from exams.models import AnswerGroup
from exams.permissions import assessment_for_staff, can_manage
from exams.views.grading_by_question import question_for_staff
from exams.views.params import ids_from, points_from


def _groups_url(assessment_id: int, template_id: int, anchor: str = "") -> str:
    return reverse("exams:answer_groups", args=[assessment_id, template_id]) + (f"#{anchor}" if anchor else "")


@login_required
@require_POST
def start_grouping(request: HttpRequest, assessment_id: int, template_id: int) -> HttpResponse:
    assessment, template = question_for_staff(request.user, assessment_id, template_id)
    answer_groups.request_grouping(assessment, template, request.user)
    messages.info(request, "Suggesting answer groups: the page shows the progress. Nothing is graded until you "
                           "apply rubric items to a group.")
    return redirect(reverse("exams:grade_by_question", args=[assessment.pk, template.pk]) + "#answer-groups")


@login_required
@require_GET
def grouping_status(request: HttpRequest, assessment_id: int, template_id: int) -> JsonResponse:
    assessment, template = question_for_staff(request.user, assessment_id, template_id)
    return JsonResponse(answer_groups.status(answer_groups.latest(assessment, template)))


@login_required
@require_GET
def groups_page(request: HttpRequest, assessment_id: int, template_id: int) -> HttpResponse:
    assessment, template = question_for_staff(request.user, assessment_id, template_id)
    items = rubrics.items_for(assessment, template)
    run = answer_groups.latest_done(assessment, template)
    may_manage = can_manage(request.user, assessment.course)
    groups = []
    for group in (answer_groups.groups_of(run) if run else []):
        members = []
        for member in group.members.all():
            response = member.response
            members.append({"member": member, "response": response,
                            "graded_by_person": response.grading_state != "manual" and bool(response.graded_by_id),
                            "locked": is_override(response) and not may_manage})
        groups.append({"group": group, "members": members,
                       "exceptions": sum(1 for m in members if m["member"].is_exception),
                       "ungraded": sum(1 for m in members if m["response"].grading_state == "manual")})
    current = answer_groups.latest(assessment, template)
    return render(request, "exams/answer_groups.html", {
        "assessment": assessment, "course": assessment.course, "template": template, "items": items,
        "max_points": rubrics.max_points(items), "run": run, "groups": groups, "may_manage": may_manage,
        "grouping": current, "grouping_status": answer_groups.status(current),
        "exception_distance": answer_groups.EXCEPTION_DISTANCE,
    })


@login_required
@require_POST
def apply_to_group(request: HttpRequest, group_id: int) -> HttpResponse:
    group = AnswerGroup.objects.select_related("grouping__assessment__course", "grouping__template").filter(
        pk=group_id).first()
    if group is None:
        raise Http404("No such answer group")
    assessment = assessment_for_staff(request.user, group.grouping.assessment_id)  # students, outsiders: 404
    template = group.grouping.template
    anchor = f"group-{group.pk}"
    try:
        item_ids = ids_from(request.POST.getlist("items"))
        response_ids = ids_from(request.POST.getlist("responses"))
        if not response_ids:
            raise ValueError("Tick at least one answer of the group.")
        result = answer_groups.apply_to_group(
            group, request.user, response_ids, item_ids, points_from(request.POST.get("adjustment")),
            request.POST.get("comment", "")[:5000], replace_graded=request.POST.get("replace_graded") == "1",
            reason=request.POST.get("reason", "")[:1000])
    except PermissionDenied:
        raise
    except ValueError as problem:
        messages.error(request, str(problem))
        return redirect(_groups_url(assessment.pk, template.pk, anchor))
    parts = [f"Graded {len(result.graded)} answer{'s' if len(result.graded) != 1 else ''} of group "
             f"{group.position}."]
    if result.kept:
        parts.append(f"Kept {len(result.kept)} already graded by a person (tick “replace grades” to change them).")
    if result.refused:
        parts.append(f"{len(result.refused)} not changed: " + "; ".join(sorted(set(result.refused.values()))))
    (messages.warning if result.refused else messages.success)(request, " ".join(parts))
    return redirect(_groups_url(assessment.pk, template.pk, anchor))
