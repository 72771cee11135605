"""Grading by question (issue 15): one template of one assessment, every student's answer in a list with the
rubric as point-valued items, the variant's model answer beside each answer, progress, filters and the
split of ungraded answers among the TAs. The services are in exams.rubrics; these views stay thin."""
from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from exams import answer_groups, rubrics
from exams.grading import model_answer_html
from exams.views.params import id_from, ids_from, points_from
from exams.grade_changes import is_override
from exams.models import Assessment, RubricItem
from exams.permissions import assessment_for_manager, assessment_for_staff, can_manage, response_for_staff
from quizbank.models import Template
from quizbank.services import variant_for

_FILTERS = ("who", "state", "grader", "score")


def _per_page() -> int:
    return int(getattr(settings, "GRADING_PAGE_SIZE", 50))  # answers on one page of the list


def question_of(assessment: Assessment, template_id: int) -> Template:
    """One of the assessment's questions (a template it drew), or 404."""
    template = rubrics.question_templates(assessment).filter(pk=template_id).first()
    if template is None:
        raise Http404("No such question")
    return template


def question_for_staff(user: Any, assessment_id: int, template_id: int) -> tuple[Assessment, Template]:
    """The staff member's assessment and one of its questions, or 404."""
    assessment = assessment_for_staff(user, assessment_id)
    return assessment, question_of(assessment, template_id)


def _filters(data: Any) -> dict[str, str]:
    values = {name: str(data.get(name, "")) for name in _FILTERS}
    values["who"] = values["who"] if values["who"] in ("mine", "all") else ""
    values["state"] = values["state"] if values["state"] in ("ungraded", "graded") else ""
    values["grader"] = values["grader"] if id_from(values["grader"]) is not None else ""
    values["score"] = values["score"] if values["score"] in rubrics.SCORE_FILTERS else ""
    return values


def _page_url(assessment_id: int, template_id: int, filters: dict[str, str], anchor: str = "") -> str:
    query = urlencode({name: value for name, value in filters.items() if value})
    url = reverse("exams:grade_by_question", args=[assessment_id, template_id])
    return url + (f"?{query}" if query else "") + (f"#{anchor}" if anchor else "")


def _model_answer(response: Any) -> str:
    try:
        return model_answer_html(variant_for(response.slot.template_version, response.slot.seed).key)
    except Exception:  # a broken template: the grader still reads and grades the answer
        return ""


def _shown(user: Any, assessment: Assessment, template: Template, filters: dict[str, str]) -> tuple[Any, Any, str, bool]:
    """(every answer, the filtered answers, who, whether the user has assigned answers)."""
    everyone = rubrics.question_responses(assessment, template)
    has_mine = everyone.filter(grading_assignment__grader=user).exists()
    who = filters["who"] or ("mine" if has_mine else "all")
    shown = rubrics.filtered(everyone, mine_of=user if who == "mine" else None, state=filters["state"],
                             grader_id=int(filters["grader"]) if filters["grader"] else None, score=filters["score"])
    return everyone, shown, who, has_mine


def _page_of(shown: Any, response_id: int) -> int:
    """The page of the filtered list that holds `response_id` (1 when it is not in the list)."""
    ids = list(shown.values_list("pk", flat=True))
    return ids.index(response_id) // _per_page() + 1 if response_id in ids else 1


@login_required
@require_GET
def grade_by_question(request: HttpRequest, assessment_id: int, template_id: int) -> HttpResponse:
    assessment, template = question_for_staff(request.user, assessment_id, template_id)
    items = rubrics.items_for(assessment, template)
    filters = _filters(request.GET)
    everyone, shown, who, has_mine = _shown(request.user, assessment, template, filters)
    page = Paginator(shown, _per_page()).get_page(request.GET.get("page"))
    may_manage = can_manage(request.user, assessment.course)
    cards = []
    for response in page.object_list:
        rubric_grade = getattr(response, "rubric_grade", None)
        cards.append({
            "response": response,
            "applied": {item.pk for item in rubric_grade.items.all()} if rubric_grade else set(),
            "adjustment": rubric_grade.adjustment if rubric_grade else 0,
            "comment": rubric_grade.comment if rubric_grade else (response.feedback if response.graded_by_id else ""),
            "model_answer_html": _model_answer(response),
            "locked": is_override(response) and not may_manage,
        })
    next_first = (shown[page.end_index()].pk if page.has_next() else "")  # the next page's first answer
    graders = get_user_model().objects.filter(pk__in=everyone.filter(graded_by__isnull=False).values("graded_by_id"))
    kept = {k: v for k, v in {**filters, "who": who}.items() if v}
    grouping = answer_groups.latest(assessment, template)
    return render(request, "exams/grade_by_question.html", {
        "assessment": assessment, "course": assessment.course, "template": template, "items": items,
        "max_points": rubrics.max_points(items), "cards": cards, "progress": rubrics.progress(everyone),
        "mine_progress": rubrics.progress(everyone.filter(grading_assignment__grader=request.user)) if has_mine else None,
        "filters": {**filters, "who": who}, "graders": sorted(graders, key=lambda user: user.username),
        "may_manage": may_manage, "querystring": urlencode(kept), "page": page, "next_first": next_first,
        "grouping": grouping, "grouping_status": answer_groups.status(grouping),
        "has_groups": answer_groups.latest_done(assessment, template) is not None,
    })


@login_required
@require_POST
def apply_rubric(request: HttpRequest, response_id: int) -> HttpResponse:
    response = response_for_staff(request.user, response_id)
    assessment, template = response.attempt.assessment, response.slot.template
    filters = _filters(request.POST)
    try:
        item_ids = ids_from(request.POST.getlist("items"))
        rubrics.apply_rubric(response, request.user, item_ids, points_from(request.POST.get("adjustment")),
                             request.POST.get("comment", "")[:5000], reason=request.POST.get("reason", "")[:1000])
    except PermissionDenied:
        raise
    except ValueError as problem:
        messages.error(request, str(problem))
        return redirect(_page_url(assessment.pk, template.pk, filters, f"response-{response.pk}"))
    messages.success(request, f"Saved question {response.slot.position} of "
                              f"{response.attempt.student.get_full_name() or response.attempt.student.username}.")
    next_id = request.POST.get("next_id", "")
    target = id_from(next_id) or response.pk
    _, shown, _, _ = _shown(request.user, assessment, template, filters)
    page = _page_of(shown, target)  # the page that now holds the next answer (the filtered list moved on)
    return redirect(_page_url(assessment.pk, template.pk, {**filters, "page": str(page) if page > 1 else ""},
                              f"response-{target}"))


@login_required
@require_POST
def split_grading(request: HttpRequest, assessment_id: int, template_id: int) -> HttpResponse:
    assessment = assessment_for_manager(request.user, assessment_id)
    template = question_of(assessment, template_id)
    try:
        shares = rubrics.split_ungraded(assessment, template, request.user)
    except ValueError as problem:
        messages.error(request, str(problem))
    else:
        messages.success(request, "Ungraded answers now assigned: " +
                         ", ".join(f"{name} {count}" for name, count in shares.items()) + ".")
    return redirect(_page_url(assessment.pk, template.pk, {"who": "all"}))


@login_required
@require_POST
def add_rubric_item(request: HttpRequest, assessment_id: int, template_id: int) -> HttpResponse:
    assessment = assessment_for_manager(request.user, assessment_id)
    template = question_of(assessment, template_id)
    try:
        rubrics.add_item(assessment, template, request.user, points=points_from(request.POST.get("points"), 1.0),
                         text=request.POST.get("text", ""))
    except ValueError as problem:
        messages.error(request, str(problem))
    else:
        messages.success(request, "Rubric item added; graded answers were re-scored.")
    return redirect(_page_url(assessment.pk, template.pk, {"who": "all"}))


@login_required
@require_POST
def edit_rubric_item(request: HttpRequest, item_id: int) -> HttpResponse:
    item = RubricItem.objects.select_related("assessment", "template").filter(pk=item_id).first()
    if item is None:
        raise Http404("No such rubric item")
    assessment = assessment_for_manager(request.user, item.assessment_id)  # a TA or an outsider: 404
    try:
        changed = rubrics.change_item(item, request.user, points=points_from(request.POST.get("points"), item.points),
                                      text=request.POST.get("text"))
    except ValueError as problem:
        messages.error(request, str(problem))
    else:
        messages.success(request, f"Rubric item changed; {changed} grade{'s' if changed != 1 else ''} changed.")
    return redirect(_page_url(assessment.pk, item.template_id, {"who": "all"}))
