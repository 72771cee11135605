from __future__ import annotations

from django.conf import settings
from django.db import models

from quizbank.spec import KINDS, OPTIONAL_TEXT_FIELDS, QTYPES, TemplateSpec


class Template(models.Model):
    """A question template as authors edit it. Its content fields are the working copy; every saved change
    of content freezes a new `TemplateVersion`, and students only ever see versions."""

    KIND_CHOICES = [
        ("mcq", "Scenario multiple choice"),
        ("short", "Short answer"),
        ("output", "Code-output prediction"),
        ("completion", "Code completion"),
    ]
    QTYPE_CHOICES = [("mcq", "Multiple choice"), ("short", "Short answer"), ("code", "Code-focused")]
    assert [k for k, _ in KIND_CHOICES] == list(KINDS) and [q for q, _ in QTYPE_CHOICES] == list(QTYPES)

    slug = models.SlugField(max_length=80, unique=True)
    title = models.CharField(max_length=200)
    kind = models.CharField(max_length=12, choices=KIND_CHOICES)
    qtype = models.CharField("type", max_length=8, choices=QTYPE_CHOICES,
                             help_text="The syllabus question type that blueprints count.")
    lectures = models.JSONField(default=list, help_text="Lecture numbers of the course outline, e.g. [8] or [7, 8].")
    tags = models.JSONField(default=list, blank=True)
    stem = models.TextField(help_text="Markdown with $math$ and Jinja2 over the template's variables.")
    parameters = models.TextField(blank=True, help_text="Python: draw parameters from `rng`, `np_rng` or torch (seeded).")
    solution = models.TextField(blank=True, help_text="Python: compute `answer` from the parameters.")
    misconceptions = models.TextField(
        blank=True, help_text="MCQ: `misconceptions = {name: value}` computed from named mistakes; `distractors = [text]`."
    )
    program = models.TextField(blank=True, help_text="Jinja2 over the parameters: a program shown to the student.")
    scaffold = models.TextField(blank=True, help_text="Code completion: code with a `# >>> your code` ... `# <<< your code` region.")
    reference = models.TextField(blank=True, help_text="Code completion: the reference code for the region.")
    tests = models.TextField(blank=True, help_text="Code completion: hidden `def test_...(): return value` functions.")
    public_tests = models.TextField(blank=True, help_text="Code completion: tests whose feedback students see.")
    explanation = models.TextField(blank=True, help_text="Markdown + Jinja2 shown after results are released.")
    model_answer = models.TextField(
        blank=True, help_text="Manual answers: Markdown + Jinja2, the model answer for the variant. Graders see it "
        "beside each response; the student sees it after answers are released (never the rubric).")
    answer = models.JSONField(default=dict, blank=True, help_text="Answer format and tolerances, e.g. "
                              '{"format": "numeric", "rtol": 0.01} or {"format": "manual", "rubric": "..."}.')
    limits = models.JSONField(default=dict, blank=True, help_text='Runner limits, e.g. {"wall_seconds": 5}.')
    notes = models.TextField(blank=True, help_text="Authoring notes (e.g. why there are few distinct variants).")
    mistakes = models.JSONField(
        default=list, blank=True, help_text='Code completion: typical wrong fragments, e.g. [{"name": "no max '
        'subtraction", "code": "return x.exp() / x.exp().sum()", "max_score": 0.5}]; the self-test fails the '
        "template if one scores above its max_score.")
    alternatives = models.JSONField(default=list, blank=True,
                                    help_text="Code completion: other correct fragments; each must score full marks.")
    DRAFT, READY = "draft", "ready"
    STATUS_CHOICES = [(DRAFT, "Draft: saved without running every seed; never drawn into a quiz"),
                      (READY, "Ready: passed the self-test on every checked seed")]
    status = models.CharField(max_length=8, choices=STATUS_CHOICES, default=READY)
    is_active = models.BooleanField(default=True, help_text="Inactive templates are not drawn for new attempts.")
    source_path = models.CharField(max_length=300, blank=True, help_text="Notebook this template was imported from.")
    current_version = models.ForeignKey(
        "TemplateVersion", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["slug"]

    def __str__(self) -> str:
        return self.slug

    def to_spec(self) -> TemplateSpec:
        return TemplateSpec.from_dict({name: getattr(self, name) for name in SPEC_FIELDS})

    def apply_spec(self, spec: TemplateSpec) -> None:
        data = spec.to_dict()
        for name in SPEC_FIELDS:
            default = "" if name in OPTIONAL_TEXT_FIELDS else []  # the empty optional parts are left out of to_dict
            setattr(self, name, data.get(name, default))


SPEC_FIELDS = tuple(TemplateSpec.__dataclass_fields__)


class TemplateVersion(models.Model):
    """An immutable snapshot of a template's content. Variants and attempts point here, so an edit never
    changes a question a student already has."""

    template = models.ForeignKey(Template, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField()
    spec = models.JSONField()
    content_hash = models.CharField(max_length=64)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)

    class Meta:
        ordering = ["template", "-number"]
        constraints = [models.UniqueConstraint(fields=["template", "number"], name="unique_version_number")]

    def __str__(self) -> str:
        return f"{self.template.slug} v{self.number}"

    def to_spec(self) -> TemplateSpec:
        return TemplateSpec.from_dict(self.spec)


class Variant(models.Model):
    """The cached result of running a template version with one seed.

    `public` is what a student may see while answering (stem, options, shown program, scaffold);
    `key` is never sent to a student before release (answer, correct option, explanation, expected test
    values, parameters)."""

    version = models.ForeignKey(TemplateVersion, on_delete=models.CASCADE, related_name="variants")
    seed = models.BigIntegerField()
    public = models.JSONField()
    key = models.JSONField()
    generation_ms = models.FloatField(default=0.0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["version", "seed"], name="unique_variant_seed")]

    def __str__(self) -> str:
        return f"{self.version} seed {self.seed}"
