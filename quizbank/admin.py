from __future__ import annotations

import json
import re
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html

from quizbank import services
from quizbank.engine import RunnerUnavailable
from quizbank.models import SPEC_FIELDS, Template, TemplateVersion
from quizbank.selftest import DEFAULT_SEEDS, FragmentGrade, SelfTestReport, grade_fragments, selftest
from quizbank.spec import PYTHON_PARTS, TEXT_PARTS, TemplateError, TemplateSpec, check_static

CODE_WIDGET = forms.Textarea(attrs={"rows": 8, "cols": 100, "class": "qb-code", "spellcheck": "false"})
MARKDOWN_WIDGET = forms.Textarea(attrs={"rows": 6, "cols": 100, "class": "qb-markdown"})
PREVIEW_SEEDS = (0, 1, 2, 3)
MAX_PREVIEW_SEEDS = 12
MAX_SELFTEST_SEEDS = 500


def parse_seed_list(raw: str | None, default: tuple[int, ...] = PREVIEW_SEEDS) -> list[int]:
    if not raw:
        return list(default)
    seeds = []
    for piece in raw.replace(" ", "").split(","):
        if re.fullmatch(r"-?[0-9]{1,18}", piece):  # ASCII digits only: "²".isdigit() is True, int("²") raises
            seeds.append(int(piece))
    return seeds[:MAX_PREVIEW_SEEDS] or list(default)


def bounded_int(raw: str | None, default: int, low: int, high: int) -> int:
    try:
        return min(max(int(raw or default), low), high)
    except ValueError:
        return default


class LocatedJSONField(forms.JSONField):
    """Django's JSON field says only "Enter a valid JSON."; an author needs the line and column."""

    def to_python(self, value: Any) -> Any:
        try:
            return super().to_python(value)
        except forms.ValidationError:
            try:
                json.loads(value)
            except json.JSONDecodeError as error:
                raise forms.ValidationError(f"Not valid JSON: {error.msg} at line {error.lineno}, column "
                                            f"{error.colno}.", code="invalid") from error
            raise


JSON_FIELDS = ("lectures", "tags", "answer", "limits", "mistakes", "alternatives")


class TemplateForm(forms.ModelForm):
    class Meta:
        model = Template
        fields = [*SPEC_FIELDS, "status", "is_active"]
        field_classes = {name: LocatedJSONField for name in JSON_FIELDS}
        widgets = {
            **{part: CODE_WIDGET for part in (*PYTHON_PARTS, "program", "scaffold")},
            "stem": MARKDOWN_WIDGET,
            "explanation": MARKDOWN_WIDGET,
            "model_answer": MARKDOWN_WIDGET,
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name in TEXT_PARTS + ("notes",):
            self.fields[name].strip = False  # a final newline is content: stripping it made phantom versions
        self.selftest_report: SelfTestReport | None = None

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        if self.errors:
            return cleaned
        try:
            spec = TemplateSpec.from_dict({name: cleaned.get(name) for name in SPEC_FIELDS})
        except TemplateError as error:
            self._attach(error)
            return cleaned
        data = spec.to_dict()
        for name in SPEC_FIELDS:  # the stored working copy takes the spec's one form (LF, final newline)
            cleaned[name] = data.get(name, [])
        problems = check_static(spec)
        if problems:
            self._attach(TemplateError(problems))
            return cleaned
        if cleaned.get("status") == Template.DRAFT or not self._needs_check(spec):
            return cleaned
        try:  # every checked seed must pass before a ready template is saved; errors go on their fields
            self.selftest_report = services.check_before_save(spec)
        except RunnerUnavailable as error:
            raise forms.ValidationError(f"The runner cannot run template code, so the template could not be "
                                        f"checked: {error}") from error
        for failure in self.selftest_report.failures:
            self._attach_failure(failure)
        return cleaned

    def _needs_check(self, spec: TemplateSpec) -> bool:
        """An unchanged ready template was checked when it was saved; a draft made ready is checked now."""
        instance = self.instance
        if instance.pk is None or instance.status != Template.READY or instance.current_version is None:
            return True
        return instance.current_version.content_hash != spec.content_hash()

    def _attach(self, error: TemplateError, prefix: str = "") -> None:
        for problem in error.problems:
            self._add_located(problem.part, problem.line, problem.message, prefix, str(problem))

    def _attach_failure(self, failure: Any) -> None:
        seeds = ", ".join(str(s) for s in failure.seeds[:8]) + (" ..." if len(failure.seeds) > 8 else "")
        prefix = f"seed{'s' if len(failure.seeds) > 1 else ''} {seeds}: " if failure.seeds else ""
        message = failure.message.split("] ", 1)[1] if failure.message.startswith("[") else failure.message
        self._add_located(failure.part, failure.line, f"{failure.category}: {message}", prefix, failure.describe())

    def _add_located(self, part: str, line: int | None, message: str, prefix: str, whole: str) -> None:
        field = part.replace("-", "_")
        if field.startswith("mistake"):
            field = "mistakes"
        elif field.startswith("alternative"):
            field = "alternatives"
        if field in self.fields:
            self.add_error(field, f"{prefix}{f'line {line}: ' if line else ''}{message}")
        else:
            self.add_error(None, f"{prefix}{whole}" if not whole.startswith(prefix) else whole)


class VersionInline(admin.TabularInline):
    model = TemplateVersion
    fields = ("number", "content_hash", "created_at", "created_by")
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Template)
class TemplateAdmin(admin.ModelAdmin):
    form = TemplateForm
    list_display = ("slug", "title", "kind", "qtype", "lecture_list", "version_number", "status", "is_active", "links")
    list_filter = ("kind", "qtype", "status", "is_active")
    search_fields = ("slug", "title", "tags")
    inlines = [VersionInline]
    actions = ["selftest_action"]
    fieldsets = (
        (None, {"fields": ("slug", "title", "kind", "qtype", "lectures", "tags", "status", "is_active")}),
        ("Question", {"fields": ("parameters", "stem", "program", "solution", "misconceptions", "explanation", "model_answer")}),
        ("Code completion", {"classes": ("collapse",),
                             "fields": ("scaffold", "reference", "tests", "public_tests", "mistakes", "alternatives")}),
        ("Answer and limits", {"fields": ("answer", "limits", "notes")}),
    )

    class Media:
        css = {"all": ("quizbank/admin.css",)}

    @admin.display(description="lectures")
    def lecture_list(self, obj: Template) -> str:
        return ", ".join(str(x) for x in obj.lectures)

    @admin.display(description="version")
    def version_number(self, obj: Template) -> str:
        return f"v{obj.current_version.number}" if obj.current_version_id else "-"

    @admin.display(description="")
    def links(self, obj: Template) -> str:
        return format_html('<a href="{}">preview</a> · <a href="{}">self-test</a>',
                           reverse("admin:quizbank_template_preview", args=[obj.pk]),
                           reverse("admin:quizbank_template_selftest", args=[obj.pk]))

    def save_model(self, request: HttpRequest, obj: Template, form: forms.ModelForm, change: bool) -> None:
        super().save_model(request, obj, form, change)
        before = obj.current_version_id
        version = services.freeze_version(obj, user=request.user)
        draft = " as a draft: it is not drawn into any quiz until its status is Ready" if obj.status == Template.DRAFT else ""
        if version.id != before:
            self.message_user(request, f"Saved as version {version.number}{draft}. Variants already given to students "
                                       f"keep their earlier version.", messages.SUCCESS)
        else:
            self.message_user(request, f"No change to the content: still version {version.number}{draft}.",
                              messages.INFO)
        report = getattr(form, "selftest_report", None)
        if report is not None:
            self.message_user(request, f"Checked {report.seeds} seeds: all passed.", messages.SUCCESS)
            for warning in report.warnings:
                self.message_user(request, f"Weak question: {warning.describe()}", messages.WARNING)

    def get_urls(self):
        custom = [
            path("<int:pk>/preview/", self.admin_site.admin_view(self.preview_view), name="quizbank_template_preview"),
            path("<int:pk>/selftest/", self.admin_site.admin_view(self.selftest_view), name="quizbank_template_selftest"),
        ]
        return custom + super().get_urls()

    def _context(self, request: HttpRequest, template: Template, title: str) -> dict[str, Any]:
        return {**self.admin_site.each_context(request), "opts": self.model._meta, "original": template,
                "template_obj": template, "title": title}

    def _viewable(self, request: HttpRequest, pk: int) -> Template:
        template = get_object_or_404(Template, pk=pk)
        if not self.has_view_permission(request, template):
            raise PermissionDenied
        return template

    def preview_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        template = self._viewable(request, pk)
        seeds = parse_seed_list(request.GET.get("seeds"))
        spec = template.to_spec()
        fragments: list[FragmentGrade] = []
        try:
            results = services.preview(spec, seeds)
            if spec.mistakes or spec.alternatives:  # how each listed fragment fares on these very seeds
                fragments = grade_fragments(spec, [r for r in results if not isinstance(r, TemplateError)])
        except RunnerUnavailable as error:
            results = []
            messages.error(request, f"The runner cannot run template code: {error}")
        context = self._context(request, template, f"Preview: {template.title}")
        context.update(seeds=",".join(str(s) for s in seeds), results=[_preview_card(r, fragments) for r in results])
        return TemplateResponse(request, "admin/quizbank/preview.html", context)

    def selftest_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        template = self._viewable(request, pk)
        seeds = bounded_int(request.GET.get("seeds"), DEFAULT_SEEDS, 1, MAX_SELFTEST_SEEDS)
        return self._selftest_response(request, [template], seeds, f"Self-test: {template.title}")

    @admin.action(description="Self-test selected templates (%d seeds)" % DEFAULT_SEEDS)
    def selftest_action(self, request: HttpRequest, queryset) -> HttpResponse:
        return self._selftest_response(request, list(queryset), DEFAULT_SEEDS, "Self-test")

    def _selftest_response(self, request: HttpRequest, templates: list[Template], seeds: int, title: str) -> HttpResponse:
        reports = []
        try:
            reports = [(t, selftest(t.to_spec(), seeds)) for t in templates]
        except RunnerUnavailable as error:
            messages.error(request, f"The runner cannot run template code: {error}")
        context = self._context(request, templates[0] if len(templates) == 1 else None, title)
        context.update(reports=reports, seeds=seeds, failed=sum(not r.ok for _, r in reports),
                       warned=sum(bool(r.warnings) for _, r in reports))
        return TemplateResponse(request, "admin/quizbank/selftest.html", context)


def _preview_card(result: Any, fragments: list[FragmentGrade] = ()) -> dict[str, Any]:
    if isinstance(result, TemplateError):
        return {"error": True, "seed": result.seed, "problems": [str(p) for p in result.problems]}
    public, key = result.public, result.key
    options = []
    for index, option in enumerate(public.get("options") or []):
        source = key["option_sources"][index]
        options.append({"html": option["html"], "correct": index == key.get("correct_index"),
                        "source": source.removeprefix("misconception:")})
    return {"error": False, "seed": result.seed, "public": public, "key": key, "options": options,
            "wall_ms": result.wall_ms, "fragments": [f for f in fragments if f.seed == result.seed]}
