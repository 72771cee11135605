"""Item analysis pages (staff of the course; a template's page shows the viewer's own courses only) and
their CSV tables. The numbers come from exams.analytics (cached); this module only shapes them for the page."""
from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils.text import slugify
from django.views.decorators.http import require_GET

from exams.analytics import plots
from exams.analytics.caching import Analysis, assessment_statistics, template_statistics
from exams.analytics.tables import TEST_COLUMNS, assessment_tables, template_tables
from exams.exports import rows_to_csv
from exams.permissions import assessment_for_staff, courses_taught_by, is_superuser
from exams.views.staff import _csv_response
from quizbank.models import Template

MCQ_VERB = "chose the option of"
VALUE_VERB = "answered what this mistake gives:"


def _template_for_staff(request: HttpRequest, template_id: int) -> tuple[Template, Any, bool]:
    courses = courses_taught_by(request.user)
    superuser = is_superuser(request.user)
    if not superuser and not courses.exists():
        raise Http404("No such template")
    return get_object_or_404(Template, pk=template_id), courses, superuser


def _misconception_figures(tables: list[dict[str, Any]]) -> list[dict[str, Any]]:
    figures = []
    for table in tables:
        if not table or not table.get("has_named"):
            continue
        rows = [{**row, "n": table["n"]} for row in table["rows"]]
        verb = MCQ_VERB if table["kind"] == "mcq" else VALUE_VERB
        top = rows[0] if rows and rows[0]["count"] else None
        headline = f"{top['share']:.0f}% of the class {verb} “{top['name']}”" if top else ""
        figures.append({"table": table, "headline": headline,
                        "svg": plots.bars(rows, title=f"{table['slug']}: {table['title']}",
                                          note=f"share of the {table['n']} students who drew it")})
    return figures


def _freshness(analysis: Analysis) -> dict[str, Any]:
    return {"computed_at": analysis.computed_at, "compute_ms": analysis.compute_ms, "stale": analysis.stale,
            "updating": analysis.updating}


@login_required
@require_GET
def assessment_analysis_page(request: HttpRequest, assessment_id: int) -> HttpResponse:
    assessment = assessment_for_staff(request.user, assessment_id)
    analysis = assessment_statistics(assessment)
    data = analysis.data
    test = data["test"]
    points = [{"label": item["label"], "x": item["facility"], "y": item["discrimination_index"],
               "flagged": bool(item["flags"])} for item in data["items"]]
    return render(request, "exams/analysis_assessment.html", {
        "assessment": assessment, "course": assessment.course, "data": data, **_freshness(analysis),
        "test_rows": [(title, test.get(key)) for key, title in TEST_COLUMNS],
        "histogram": plots.histogram([("students", data["histogram"], plots.BLUE)],
                                     title=f"Score distribution ({data['n']} students)"),
        "scatter": plots.scatter(points, title="Facility against discrimination, per question"),
        "flagged": [item for item in data["items"] if item["flags"]],
        "misconception_figures": _misconception_figures(data["misconceptions"]),
    })


@login_required
@require_GET
def template_analysis_page(request: HttpRequest, template_id: int) -> HttpResponse:
    template, courses, superuser = _template_for_staff(request, template_id)
    analysis = template_statistics(template, courses, all_courses=superuser)
    data = analysis.data
    return render(request, "exams/analysis_template.html", {
        "template": template, "data": data, **_freshness(analysis),
        "histogram": plots.histogram(
            [("right on this question", data["histogram_right"], plots.GREEN),
             ("not right", data["histogram_wrong"], plots.RED)],
            title=f"Attempt scores of the {data['n']} students who drew it", xlabel="attempt score (%)"),
        "misconception_figures": _misconception_figures([data["misconceptions"]] if data["misconceptions"] else []),
        "completion_tables": [data["completion"]] if data["completion"] else [],
        "all_courses": superuser,
    })


def _table_csv(tables: dict[str, tuple[str, Any]], table: str, filename: str) -> StreamingHttpResponse:
    if table not in tables:
        raise Http404("No such table")
    return _csv_response(rows_to_csv(tables[table][1]), filename)


@login_required
@require_GET
def assessment_analysis_csv(request: HttpRequest, assessment_id: int, table: str) -> StreamingHttpResponse:
    assessment = assessment_for_staff(request.user, assessment_id)
    data = assessment_statistics(assessment).data
    name = slugify(f"{assessment.course.code}-{assessment.title}-{table}")
    return _table_csv(assessment_tables(data), table, f"{name}.csv")


@login_required
@require_GET
def template_analysis_csv(request: HttpRequest, template_id: int, table: str) -> StreamingHttpResponse:
    template, courses, superuser = _template_for_staff(request, template_id)
    data = template_statistics(template, courses, all_courses=superuser).data
    return _table_csv(template_tables(data), table, f"{slugify(template.slug + '-' + table)}.csv")
