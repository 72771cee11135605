"""Reading what the analysis needs from the database, in a few queries: submitted, fully graded attempts
(each student's first, as Moodle's default), every response with its slot, and each variant's key."""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Count, Max, Q, Sum

from exams.models import Attempt, AttemptSlot, Response
from exams.analytics.misconceptions import known_mistakes
from quizbank.models import TemplateVersion, Variant

FORMAT_OF_KIND = {"mcq": "choice", "output": "output", "completion": "code"}


@dataclass
class Answer:
    attempt_id: int
    student_id: int
    assessment_id: int
    position: int
    template_id: int
    version_id: int
    version_number: int
    seed: int
    text: str
    score: float
    feedback_data: dict[str, Any]
    key: dict[str, Any]


@dataclass
class TemplateInfo:
    id: int
    slug: str
    title: str
    kind: str
    answer_format: str
    answer_config: dict[str, Any]
    mistakes: list[dict[str, Any]]
    version_specs: dict[int, dict[str, Any]] = field(default_factory=dict)  # by version id


def counted_attempts(attempts: Any) -> list[int]:
    """The first submitted, fully graded attempt of each student (an attempt still being graded would count
    its ungraded answers as wrong)."""
    rows = (attempts.filter(state=Attempt.SUBMITTED, pending_count=0)
            .order_by("assessment_id", "student_id", "number").values_list("pk", "assessment_id", "student_id"))
    first: dict[tuple[int, int], int] = {}
    for pk, assessment_id, student_id in rows:
        first.setdefault((assessment_id, student_id), pk)
    return list(first.values())


def load_answers(attempt_ids: Iterable[int], attempts: Any = None) -> tuple[list[Answer], dict[int, TemplateInfo]]:
    """Every answer of the given attempts. `attempts` (a queryset holding at least them) keeps the SQL small:
    thousands of ids in `IN (...)` cost more to compile than the query takes to run."""
    wanted = set(attempt_ids)
    source = attempts.filter(state=Attempt.SUBMITTED) if attempts is not None else Attempt.objects.filter(pk__in=wanted)
    rows = [row for row in Response.objects.filter(attempt__in=source.values("pk")).values_list(
        "attempt_id", "attempt__student_id", "attempt__assessment_id", "slot__position", "slot__template_id",
        "slot__template_version_id", "slot__template_version__number", "slot__seed", "text", "score",
        "feedback_data").order_by("attempt_id", "slot__position") if row[0] in wanted]
    version_ids = {row[5] for row in rows}
    pairs = {(row[5], row[7]) for row in rows}
    keys: dict[tuple[int, int], dict[str, Any]] = {}
    if version_ids:
        seeds = AttemptSlot.objects.filter(attempt__in=source.values("pk")).values("seed")
        for version_id, seed, key in Variant.objects.filter(version_id__in=version_ids, seed__in=seeds).values_list(
                "version_id", "seed", "key"):
            if (version_id, seed) in pairs:
                keys[(version_id, seed)] = key
    templates: dict[int, TemplateInfo] = {}
    # The newest version drawn describes the template (its answer format, tolerance and known mistakes).
    for version in TemplateVersion.objects.filter(pk__in=version_ids).select_related("template").order_by("number"):
        spec = version.spec or {}
        answer = spec.get("answer") or {}
        kind = spec.get("kind", version.template.kind)
        answer_format = FORMAT_OF_KIND.get(kind) or answer.get("format", "numeric")
        specs = templates[version.template_id].version_specs if version.template_id in templates else {}
        specs[version.pk] = spec
        templates[version.template_id] = TemplateInfo(version.template_id, version.template.slug,
                                                      version.template.title, kind, answer_format, answer,
                                                      known_mistakes(spec), specs)
    answers = [Answer(attempt_id=row[0], student_id=row[1], assessment_id=row[2], position=row[3], template_id=row[4],
                      version_id=row[5], version_number=row[6], seed=row[7], text=row[8] or "",
                      score=float(row[9] or 0.0), feedback_data=row[10] or {}, key=keys.get((row[5], row[7]), {}))
               for row in rows]
    return answers, templates


def responses_signature(responses: Any) -> str:
    """Changes whenever a counted grade can have changed: a new submission, a grade, a regrade."""
    totals = responses.aggregate(n=Count("id"), graded=Max("graded_at"), total=Sum("score"),
                                 pending=Count("id", filter=Q(attempt__pending_count__gt=0)),
                                 submitted=Max("attempt__submitted_at"))
    graded = totals["graded"].isoformat() if totals["graded"] else "-"
    submitted = totals["submitted"].isoformat() if totals["submitted"] else "-"
    return f"{totals['n']}|{graded}|{submitted}|{(totals['total'] or 0.0):.9f}|{totals['pending']}"
