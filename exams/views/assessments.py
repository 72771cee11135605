"""Instructors build assessments in the staff pages: create, edit (settings, late policy, blueprint with pool
counts and a template picker), duplicate, delete, preview a template, and release results and answers.
Instructors only: TAs and students get the same 404 as other courses' staff (exams.permissions)."""
from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from exams import authoring, clock
from exams.authoring_forms import (
    AssessmentForm,
    ReleaseForm,
    draw_rows,
    initial_for,
    picked_slugs,
    tier_rows_for,
    zone_label,
)
from exams.models import Assessment, Course, default_late_policy
from exams.permissions import assessment_for_manager, course_for_manager, is_superuser
from exams.templatetags.dlquiz_time import when
from quizbank.models import Template
from quizbank.services import variant_for

PREVIEW_SEEDS = (1, 2, 3)


def _picker(picked: list[str]) -> list[dict[str, Any]]:
    chosen = set(picked)
    bank = sorted(authoring.drawable_bank(), key=lambda t: t.slug not in chosen)  # picked ones first
    return [{"template": t, "picked": t.slug in chosen,
             "search": " ".join([t.slug, t.title, t.qtype, t.kind, *map(str, t.lectures or []), *(t.tags or [])]).lower()}
            for t in bank]


def _editor(request: HttpRequest, course: Course, form: AssessmentForm, *, assessment: Assessment | None,
            rows: list[dict[str, str]], picked: list[str], tier_rows: list[dict[str, str]],
            blueprint: list[dict[str, Any]] | None, problems: list[str] = (), status: int = 200,
            preset_lectures: str = "") -> HttpResponse:
    report = authoring.blueprint_report(blueprint, form.data.get("title") or (assessment.title if assessment else "This assessment")) \
        if blueprint else None
    return render(request, "exams/assessment_form.html", {
        "course": course,
        "assessment": assessment,
        "form": form,
        "rows": rows,
        "qtypes": authoring.QTYPES,
        "picked": picked,
        "picker": _picker(picked),
        "tier_rows": tier_rows,
        "report": report,
        "problems": list(problems),
        "zone": zone_label(),
        "presets": authoring.PRESETS,
        "started": authoring.started(assessment) if assessment else 0,
        "locked": bool(assessment and authoring.blueprint_locked(assessment)),
        "is_superuser": is_superuser(request.user),
        "preset_lectures": preset_lectures,
    }, status=status)


def _apply_preset(request: HttpRequest, course: Course, assessment: Assessment | None, name: str) -> HttpResponse:
    """The preset's draws (over the lectures typed next to the buttons) replace the random draws; hand-picked
    templates stay. Nothing is saved until the instructor presses Save."""
    preset = authoring.PRESETS[name]
    problems: list[str] = []
    blueprint = authoring.preset_blueprint(name)
    try:
        lectures = authoring.parse_lectures(request.POST.get("preset_lectures", ""))
    except authoring.AuthoringError as error:
        problems = error.problems
    else:
        if lectures is not None:
            for draw in blueprint:
                draw["lectures"] = lectures
    picked = picked_slugs(request.POST)
    if picked:
        blueprint.append({"templates": picked})
    initial = {key: request.POST.get(key) for key in AssessmentForm.base_fields if key in request.POST}
    initial.update(kind=preset["kind"], time_limit_minutes=preset["minutes"])
    form = AssessmentForm(course, initial=initial)
    rows, _ = authoring.editor_rows(blueprint)
    return _editor(request, course, form, assessment=assessment, rows=rows, picked=picked,
                   tier_rows=_tiers_from_post(request) or tier_rows_for({}), blueprint=blueprint, problems=problems,
                   preset_lectures=request.POST.get("preset_lectures", ""))


def _tiers_from_post(request: HttpRequest) -> list[dict[str, str]]:
    minutes, penalties = request.POST.getlist("tier_minutes"), request.POST.getlist("tier_penalty")
    return [{"tier_minutes": m, "tier_penalty": p} for m, p in zip(minutes, penalties)]


def _save(request: HttpRequest, course: Course, assessment: Assessment | None) -> HttpResponse:
    action = request.POST.get("action", "save")
    if action.startswith("preset-") and action.removeprefix("preset-") in authoring.PRESETS:
        return _apply_preset(request, course, assessment, action.removeprefix("preset-"))
    form = AssessmentForm(course, request.POST)
    rows, picked = draw_rows(request.POST), picked_slugs(request.POST)
    tier_rows = _tiers_from_post(request) or tier_rows_for({})
    problems: list[str] = []
    blueprint: list[dict[str, Any]] | None = None
    if assessment is not None and authoring.blueprint_locked(assessment) and not rows and not picked:
        shown = assessment.blueprint  # the locked editor is disabled and posts nothing: "unchanged", not "empty"
    else:
        try:
            blueprint = authoring.build_blueprint(rows, picked)
        except authoring.AuthoringError as error:
            problems.extend(error.problems)
        shown = blueprint
    rows = rows or [_blank()]

    def again(more: list[str], status: int) -> HttpResponse:
        return _editor(request, course, form, assessment=assessment, rows=rows, picked=picked, tier_rows=tier_rows,
                       blueprint=shown, problems=problems + more, status=status)

    if action == "check":  # pool counts only, nothing saved
        return again([], 400 if problems else 200)
    if not form.is_valid() or problems:
        return again([], 400)
    values = form.values(request.POST)
    if form.tier_problems:
        return again(form.tier_problems, 400)
    try:
        if assessment is None:
            saved = authoring.create_assessment(course, values, blueprint or [], by=request.user)
        else:
            saved = authoring.update_assessment(assessment, values, blueprint, by=request.user)
    except authoring.AuthoringError as error:
        return again(error.problems, 400)
    messages.success(request, f"Saved {saved.title}.")
    return redirect("exams:edit_assessment", assessment_id=saved.pk)


def _blank() -> dict[str, str]:
    return {"qtype": "", "count": "", "lectures": "", "tags": ""}


@login_required
@require_http_methods(["GET", "POST"])
def new_assessment(request: HttpRequest, course_id: int) -> HttpResponse:
    course = course_for_manager(request.user, course_id)
    if request.method == "POST":
        return _save(request, course, None)
    name = request.GET.get("preset") if request.GET.get("preset") in authoring.PRESETS else "quiz"
    preset = authoring.PRESETS[name]
    category = authoring.categories_for(course).filter(name__icontains=preset["kind"]).first()
    form = AssessmentForm(course, initial={"kind": preset["kind"], "time_limit_minutes": preset["minutes"],
                                           "attempts_allowed": 1, "position": course.assessments.count() + 1,
                                           "after_last_tier_percent": 100,
                                           "category": category.pk if category else None})
    rows, picked = authoring.editor_rows(authoring.preset_blueprint(name))
    return _editor(request, course, form, assessment=None, rows=rows, picked=picked,
                   tier_rows=tier_rows_for(default_late_policy()), blueprint=None)


@login_required
@require_http_methods(["GET", "POST"])
def edit_assessment(request: HttpRequest, assessment_id: int) -> HttpResponse:
    assessment = assessment_for_manager(request.user, assessment_id)
    if request.method == "POST":
        return _save(request, assessment.course, assessment)
    form = AssessmentForm(assessment.course, initial=initial_for(assessment))
    rows, picked = authoring.editor_rows(assessment.blueprint)
    return _editor(request, assessment.course, form, assessment=assessment, rows=rows, picked=picked,
                   tier_rows=tier_rows_for(assessment.late_policy), blueprint=assessment.blueprint)


@login_required
@require_POST
def blueprint_pools(request: HttpRequest, course_id: int) -> JsonResponse:
    """The editor's live pool counts: the posted rows -> the rendered report (or the problems)."""
    course_for_manager(request.user, course_id)
    try:
        blueprint = authoring.build_blueprint(draw_rows(request.POST), picked_slugs(request.POST))
    except authoring.AuthoringError as error:
        return JsonResponse({"ok": False, "problems": error.problems,
                             "html": render_to_string("exams/_blueprint_report.html", {"problems": error.problems})})
    report = authoring.blueprint_report(blueprint, request.POST.get("title") or "This assessment")
    return JsonResponse({"ok": report.ok, "question_count": report.question_count,
                         "draws": [{"pool": d.pool, "count": d.count, "status": d.status} for d in report.draws],
                         "html": render_to_string("exams/_blueprint_report.html", {"report": report})})


@login_required
@require_POST
def duplicate_assessment(request: HttpRequest, assessment_id: int) -> HttpResponse:
    assessment = assessment_for_manager(request.user, assessment_id)
    copy = authoring.duplicate_assessment(assessment, by=request.user)
    messages.success(request, f"{copy.title} is a draft copy of {assessment.title}: check its dates before publishing.")
    return redirect("exams:edit_assessment", assessment_id=copy.pk)


@login_required
@require_http_methods(["GET", "POST"])
def delete_assessment(request: HttpRequest, assessment_id: int) -> HttpResponse:
    assessment = assessment_for_manager(request.user, assessment_id)
    attempt_count = assessment.attempts.count()
    if request.method == "POST":
        try:
            authoring.delete_assessment(assessment, by=request.user)
        except authoring.AuthoringError as error:
            messages.error(request, str(error))
            return redirect("exams:manage_assessment", assessment_id=assessment.pk)
        messages.success(request, f"Deleted {assessment.title}.")
        return redirect("exams:course", course_id=assessment.course_id)
    return render(request, "exams/assessment_delete.html", {
        "assessment": assessment, "course": assessment.course, "attempt_count": attempt_count,
    })


@login_required
@require_http_methods(["GET", "POST"])
def release_controls(request: HttpRequest, assessment_id: int) -> HttpResponse:
    assessment = assessment_for_manager(request.user, assessment_id)
    form = ReleaseForm(request.POST or None, initial={"results_at": assessment.results_released_at,
                                                      "answers_at": assessment.answers_released_at})
    status = 200
    if request.method == "POST":
        if form.is_valid():
            data = form.cleaned_data
            try:
                saved = authoring.release_assessment(assessment, results=data["results"],
                                                     results_at=data["results_at"], answers=data["answers"],
                                                     answers_at=data["answers_at"], by=request.user)
            except authoring.AuthoringError as error:
                form.add_error(None, str(error))
            else:
                state = authoring.release_state(saved)
                messages.success(request, _release_sentence(state))
                return redirect("exams:release_controls", assessment_id=assessment.pk)
        status = 400
    return render(request, "exams/release_controls.html", {
        "assessment": assessment, "course": assessment.course, "form": form, "zone": zone_label(),
        "state": authoring.release_state(assessment), "now": clock.now(),
    }, status=status)


def _release_sentence(state: authoring.ReleaseState) -> str:
    def part(what: str, at: Any, released: bool) -> str:
        if at is None:
            return f"{what} hidden"
        return f"{what} released {when(at, 'short')}" if released else f"{what} will be released {when(at, 'short')}"

    return (part("Results", state.results_at, state.results_released) + "; "
            + part("answers", state.answers_at, state.answers_released) + ".")


@login_required
@require_GET
def template_preview(request: HttpRequest, course_id: int, slug: str) -> HttpResponse:
    """A template as students see it (its current version) for a few seeds, with the answer key."""
    course = course_for_manager(request.user, course_id)
    template = Template.objects.select_related("current_version").filter(slug=slug).first()
    if template is None:
        raise Http404("No such template")
    cards = []
    for seed in PREVIEW_SEEDS:
        if template.current_version is None:
            cards.append({"seed": seed, "error": "This template has no version yet."})
            continue
        try:
            variant = variant_for(template.current_version, seed)
        except Exception as error:  # a broken template is shown, not a 500
            cards.append({"seed": seed, "error": str(error)})
            continue
        key = variant.key
        options = [{"html": o.get("html") or o.get("text", ""), "correct": i == key.get("correct_index")}
                   for i, o in enumerate(variant.public.get("options") or [])]
        cards.append({"seed": seed, "public": variant.public, "key": key, "options": options})
    return render(request, "exams/template_preview.html", {
        "course": course, "template": template, "cards": cards, "is_superuser": is_superuser(request.user),
    })
