"""Publishing with a pre-flight check: before any student can start, every template the blueprint can draw
runs over PREFLIGHT_SEEDS seeds and the class's own variants are generated. A template that fails is listed
(slug, seed, cell, line, message) and the draws go around it when the rest of the bank still fills the
blueprint; otherwise publishing stops and says why. The assessment stays a draft until all of that passed
(`pregen_state` shows the progress), so its state never says Published while students would meet a broken
question.

`start_publishing` (the staff page, the admin action) queues `exams.pregenerate_assessment` on the `bulk`
queue; that task's body is `run_publication`.
"""
from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from django.db import transaction

from exams import assembly, clock, dispatch
from exams.models import Assessment
from quizbank.engine import generate_many
from quizbank.models import Template
from quizbank.services import pregenerate, runner_width
from quizbank.spec import TemplateError

logger = logging.getLogger(__name__)

PREFLIGHT_SEEDS = 20
MAX_ROUNDS = 3  # class seeds can reveal a failure the pre-flight seeds missed: exclude it and plan again
PUBLISHING = (Assessment.PREGEN_QUEUED, Assessment.PREGEN_RUNNING)


@dataclass(frozen=True)
class TemplateFailure:
    """One template that failed for one seed, located as the engine located it."""

    slug: str
    template_id: int | None
    seed: int | None
    cell: str
    line: int | None
    message: str
    excluded: bool = False

    def as_json(self) -> dict[str, Any]:
        return asdict(self)

    def reason(self) -> str:
        where = self.cell if self.line is None else f"{self.cell}, line {self.line}"
        return f"seed {self.seed}: [{where}] {self.message}"


def is_publishing(assessment: Assessment) -> bool:
    return not assessment.is_published and assessment.pregen_state in PUBLISHING


def start_publishing(assessment: Assessment, *, by: Any = None, now: datetime | None = None) -> Assessment:
    """Queue the pre-flight and pre-generation; the assessment stays a draft until they pass. Raises
    AssemblyError (nothing queued) if the bank cannot fill the blueprint at all. Publishing one already
    published or on its way is a no-op."""
    assessment.excluded_templates = {}  # a new publication checks the whole bank again
    problems = assembly.check_blueprint(assessment)
    if problems:
        raise assembly.AssemblyError(problems)
    with transaction.atomic():
        assessment = Assessment.objects.select_for_update(no_key=True).get(pk=assessment.pk)
        if assessment.is_published or assessment.pregen_state in PUBLISHING:
            return assessment
        assessment.pregen_state = Assessment.PREGEN_QUEUED
        assessment.pregen_done = assessment.pregen_total = 0
        assessment.pregen_message = "Waiting for the worker…"
        assessment.pregen_updated_at = now or clock.now()
        assessment.excluded_templates = {}
        assessment.preflight_problems = []
        assessment.save()
        dispatch.send_on_commit(dispatch.PREGENERATE_ASSESSMENT, assessment.pk)
    return assessment


def pregenerate_or_publish(assessment_id: int) -> None:
    """The Celery task's body: a draft on its way runs the whole publication; a published assessment (the
    demo, a re-run) only fills the class's variant cache."""
    assessment = Assessment.objects.get(pk=assessment_id)
    if assessment.is_published:
        assembly.pregenerate_assessment(assessment_id)
    elif assessment.pregen_state in PUBLISHING:
        try:
            run_publication(assessment_id)
        except Exception as problem:  # no sandbox, a lost database: the page must not say "Publishing…" forever
            logger.exception("publishing assessment %s failed", assessment_id)
            Assessment.objects.filter(pk=assessment_id, pregen_state__in=PUBLISHING).update(
                pregen_state=Assessment.PREGEN_FAILED, pregen_updated_at=clock.now(),
                pregen_message=f"Not published: the check could not run ({type(problem).__name__}: {problem}). "
                               "Publish again once the machine is fixed.")
            raise


def drawable_pool(assessment: Assessment, bank: list[Template]) -> list[Template]:
    """Every template of `bank` some draw of the blueprint can pick (fixed ones included)."""
    blueprint = assessment.blueprint or []
    fixed = {slug for draw in blueprint for slug in draw.get("templates") or []}
    pool = []
    for template in bank:
        if template.slug in fixed or any(
                not draw.get("templates") and assembly.draw_matches(template, draw) for draw in blueprint):
            pool.append(template)
    return pool


def preflight(templates: list[Template], seeds: int = PREFLIGHT_SEEDS,
              progress: Any = None) -> dict[str, list[TemplateFailure]]:
    """Each template's current version over seeds 0..seeds-1 (batched, every sandbox busy): the failures
    by slug; templates that pass are absent."""
    failures: dict[str, list[TemplateFailure]] = {}
    seed_list = list(range(seeds))

    def run(template: Template) -> tuple[Template, list]:
        return template, generate_many(template.current_version.to_spec(), seed_list)

    done = 0
    with ThreadPoolExecutor(max_workers=runner_width() + 1) as executor:
        for future in as_completed([executor.submit(run, template) for template in templates]):
            template, outcomes = future.result()
            found = [failure for outcome in outcomes if isinstance(outcome, TemplateError)
                     for failure in failures_of(outcome, template.pk)]
            if found:
                failures[template.slug] = found
            done += 1
            if progress is not None:
                progress(done * seeds)
    return failures


def failures_of(error: TemplateError, template_id: int | None) -> list[TemplateFailure]:
    return [TemplateFailure(slug=error.slug, template_id=template_id, seed=error.seed, cell=problem.part,
                            line=problem.line, message=problem.message) for problem in error.problems]


def run_publication(assessment_id: int) -> None:
    rows = Assessment.objects.filter(pk=assessment_id)

    def update(**fields: Any) -> None:
        rows.update(pregen_updated_at=clock.now(), **fields)

    assessment = Assessment.objects.get(pk=assessment_id)
    bank = assembly.drawable_templates()
    pool = drawable_pool(assessment, bank)
    total = len(pool) * PREFLIGHT_SEEDS
    update(pregen_state=Assessment.PREGEN_RUNNING, pregen_done=0, pregen_total=total,
           pregen_message=f"Checking {len(pool)} templates over {PREFLIGHT_SEEDS} seeds each…")
    failures = preflight(pool, progress=lambda done: update(pregen_done=done))
    ids = {template.slug: template.pk for template in bank}

    for _ in range(MAX_ROUNDS):
        stop = _exclude(assessment, failures)
        rows.update(excluded_templates=assessment.excluded_templates,
                    preflight_problems=_problems_json(failures, assessment.excluded_templates))
        if stop:
            update(pregen_state=Assessment.PREGEN_FAILED, pregen_message=stop)
            return
        pairs, problems = assembly.pregeneration_pairs(assessment)
        if problems:
            update(pregen_state=Assessment.PREGEN_FAILED, pregen_message="Not published: " + "; ".join(problems))
            return
        update(pregen_done=0, pregen_total=len(pairs), pregen_message=f"Preparing {len(pairs)} variants for the class…")
        errors = pregenerate(pairs, progress=lambda done, total: update(pregen_done=done))  # once a batch
        if not errors:
            break
        for error in errors:
            failures.setdefault(error.slug, []).extend(failures_of(error, ids.get(error.slug)))
    else:
        rows.update(preflight_problems=_problems_json(failures, {}), excluded_templates={})
        update(pregen_state=Assessment.PREGEN_FAILED,
               pregen_message="Not published: templates kept failing for the class's seeds; see the list below.")
        return

    with transaction.atomic():
        locked = Assessment.objects.select_for_update(no_key=True).get(pk=assessment_id)
        if locked.pregen_state != Assessment.PREGEN_RUNNING:  # unpublished or restarted meanwhile
            return
        locked.state = Assessment.PUBLISHED
        locked.published_at = locked.published_at or clock.now()
        locked.pregen_state = Assessment.PREGEN_DONE
        locked.pregen_done = locked.pregen_total
        left_out = len(locked.excluded_templates or {})
        locked.pregen_message = (f"Published. {left_out} failing template{'s' if left_out != 1 else ''} left out of "
                                 "the draws." if left_out else "Published: every template passed.")
        locked.pregen_updated_at = clock.now()
        locked.save()


def _exclude(assessment: Assessment, failures: dict[str, list[TemplateFailure]]) -> str:
    """Leave the failing templates out of the draws; "" when the blueprint can still be drawn, else why not."""
    if not failures:
        return ""
    fixed = {slug for draw in assessment.blueprint or [] for slug in draw.get("templates") or []}
    fixed_failing = sorted(fixed & set(failures))
    if fixed_failing:
        return ("Not published: fixed question" + ("s " if len(fixed_failing) > 1 else " ") + ", ".join(fixed_failing)
                + " failed the pre-flight check and cannot be drawn around. Fix it and publish again.")
    assessment.excluded_templates = {slug: found[0].reason() for slug, found in sorted(failures.items())}
    problems = assembly.check_blueprint(assessment)
    if problems:
        assessment.excluded_templates = {}  # nothing is drawn around: they block publishing
        return ("Not published: without the failing templates (" + ", ".join(sorted(failures)) + ") the bank "
                "cannot fill the blueprint: " + "; ".join(problems) + ". Fix them and publish again.")
    return ""


def _problems_json(failures: dict[str, list[TemplateFailure]], excluded: dict[str, str]) -> list[dict[str, Any]]:
    listed = []
    for slug in sorted(failures):
        for failure in failures[slug][:5]:  # a few seeds per template say enough
            listed.append({**failure.as_json(), "excluded": slug in excluded})
    return listed
