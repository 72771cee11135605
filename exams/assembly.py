"""From a blueprint to each student's questions, deterministically from their seed.

The same (assessment, student, attempt number) always gives the same templates, order and variant seeds
(as long as the bank is unchanged), so pre-generation before a class starts computes exactly the variants the
students will get.
"""
from __future__ import annotations

import hashlib
import logging
import random
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import transaction

from exams import clock, dispatch
from exams.models import Assessment, Attempt, Membership
from quizbank.models import Template, TemplateVersion

logger = logging.getLogger(__name__)

QTYPE_WORDS = {"mcq": "multiple-choice", "short": "short-answer", "code": "code"}


class AssemblyError(Exception):
    """The blueprint cannot be satisfied by the bank; `problems` says what is missing, one line each."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("; ".join(problems))


@dataclass(frozen=True)
class PlannedSlot:
    template: Template
    version: TemplateVersion
    seed: int
    qtype: str


def _seed_from(text: str) -> int:
    # sha256, not hash(): Python's str hash is salted per process and would differ between web and worker.
    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:4], "big") & 0x7FFFFFFF


def attempt_seed(assessment: Assessment, student: Any, number: int) -> int:
    student_id = student if isinstance(student, int) else student.pk
    return _seed_from(f"{assessment.seed_salt}:{assessment.pk}:{student_id}:{number}")


def slot_seed(seed: int, template_slug: str) -> int:
    return _seed_from(f"{seed}:{template_slug}")


def _lecture_set(lectures: Any) -> set[int] | None:
    """None = any lecture. [lo, hi] is an inclusive range; {"any": [...]} or a list of other length is a set."""
    if lectures in (None, [], {}):
        return None
    if isinstance(lectures, dict):
        return {int(x) for x in lectures.get("any", [])}
    if isinstance(lectures, int):
        return {lectures}
    if len(lectures) == 2:
        low, high = int(lectures[0]), int(lectures[1])
        return set(range(min(low, high), max(low, high) + 1))
    return {int(x) for x in lectures}


def _describe_lectures(lectures: set[int] | None) -> str:
    if lectures is None:
        return "any lecture"
    ordered = sorted(lectures)
    if len(ordered) == 1:
        return f"lecture {ordered[0]}"
    if ordered == list(range(ordered[0], ordered[-1] + 1)):
        return f"lectures {ordered[0]}-{ordered[-1]}"
    return "lectures " + ", ".join(str(x) for x in ordered)


def _describe_draw(draw: dict, lectures: set[int] | None) -> str:
    words = f"{draw.get('count', 0)} {QTYPE_WORDS.get(draw.get('qtype'), draw.get('qtype') or 'any')} question(s) " \
            f"from {_describe_lectures(lectures)}"
    if draw.get("tags"):
        words += " tagged " + ", ".join(draw["tags"])
    return words


def _drawable_templates() -> list[Template]:
    drawable = Template.objects.filter(is_active=True, status=Template.READY, current_version__isnull=False)
    return list(drawable.select_related("current_version").order_by("slug"))  # drafts are never drawn


def _matches(template: Template, draw: dict, lectures: set[int] | None) -> bool:
    if draw.get("qtype") and template.qtype != draw["qtype"]:
        return False
    if lectures is not None and not lectures.intersection(int(x) for x in template.lectures or []):
        return False
    return set(draw.get("tags") or []).issubset(template.tags or [])


def _choose(assessment: Assessment, rng: random.Random | None, bank: list[Template]) -> list[Template]:
    """The templates for one attempt (rng None: check feasibility only, taking the first candidates)."""
    excluded = assessment.excluded_templates or {}  # failed publishing's pre-flight: the draws go around them
    if excluded:
        bank = [template for template in bank if template.slug not in excluded]
    problems: list[str] = []
    blueprint = assessment.blueprint or []
    if not blueprint:
        raise AssemblyError([f"{assessment.title}: the blueprint has no questions"])
    by_slug = {template.slug: template for template in bank}
    chosen: list[Template] = []
    used: set[str] = set()
    for draw in blueprint:  # fixed questions first, so random draws cannot take them
        for slug in draw.get("templates") or []:
            template = by_slug.get(slug)
            if template is None:
                problems.append(f"{assessment.title}: fixed question {slug!r} is not an active template with a version")
            elif slug not in used:
                chosen.append(template)
                used.add(slug)
    for draw in blueprint:
        if draw.get("templates"):
            continue
        count = int(draw.get("count", 0))
        lectures = _lecture_set(draw.get("lectures"))
        candidates = [t for t in bank if t.slug not in used and _matches(t, draw, lectures)]
        if len(candidates) < count:
            problems.append(
                f"{assessment.title}: needs {_describe_draw(draw, lectures)}, the bank has {len(candidates)} "
                f"(active templates with a version"
                + (": " + ", ".join(t.slug for t in candidates) if candidates else "") + ")")
            continue
        picked = rng.sample(candidates, count) if rng is not None else candidates[:count]
        chosen.extend(picked)
        used.update(t.slug for t in picked)
    if problems:
        raise AssemblyError(problems)
    return chosen


def drawable_templates() -> list[Template]:
    """The active templates with a version, their current versions loaded."""
    return _drawable_templates()


def draw_matches(template: Template, draw: dict) -> bool:
    """Whether a random draw of a blueprint (not a fixed-templates one) can pick `template`."""
    return _matches(template, draw, _lecture_set(draw.get("lectures")))


def check_blueprint(assessment: Assessment) -> list[str]:
    try:
        _choose(assessment, None, _drawable_templates())
    except AssemblyError as error:
        return error.problems
    return []


BANK_CACHE_SECONDS = 300


@dataclass(frozen=True)
class OutlinedTemplate:
    """What drawing needs of a template (the fields `_choose` and `_matches` read), without its content."""
    pk: int
    slug: str
    qtype: str
    lectures: list
    tags: list
    current_version_id: int


def _bank_outline() -> list[OutlinedTemplate]:
    """The drawable templates' outlines from Django's cache: every start of a class draws from the same bank,
    and loading 200 templates with their content per start was most of a start's CPU. The key is the bank's
    state (one small aggregate query), so an edited, added or retired template is seen by the next start."""
    from django.core.cache import cache
    from django.db.models import Count, Max

    drawable = Template.objects.filter(is_active=True, status=Template.READY, current_version__isnull=False)
    stamp = drawable.aggregate(n=Count("id"), changed=Max("updated_at"), version=Max("current_version_id"))
    changed = stamp["changed"].timestamp() if stamp["changed"] else 0
    key = f"dlquiz:bank-outline:v2:{stamp['n']}:{changed}:{stamp['version']}"
    if _OUTLINE_IN_PROCESS.get("key") == key:  # unpickling ~260 outlines from Redis per start cost more than the query
        return _OUTLINE_IN_PROCESS["outline"]
    outline = cache.get(key)
    if outline is None:
        outline = [OutlinedTemplate(*row) for row in drawable.order_by("slug").values_list(
            "pk", "slug", "qtype", "lectures", "tags", "current_version_id")]
        cache.set(key, outline, BANK_CACHE_SECONDS)
    _OUTLINE_IN_PROCESS.update(key=key, outline=outline)
    return outline


# This process's copy of the outline for the bank state it was read at (one bank state at a time); the key
# still comes from the database on every start, so an edit is seen as soon as with the shared cache alone.
_OUTLINE_IN_PROCESS: dict[str, Any] = {}


def _planned_from_outline(outlined: OutlinedTemplate, seed: int) -> PlannedSlot:
    # Unsaved stand-ins carrying the ids: an attempt slot needs only those, and no spec is loaded for a start.
    template = Template(pk=outlined.pk, slug=outlined.slug, qtype=outlined.qtype, lectures=outlined.lectures,
                        tags=outlined.tags, current_version_id=outlined.current_version_id)
    version = TemplateVersion(pk=outlined.current_version_id, template_id=outlined.pk)
    return PlannedSlot(template=template, version=version, seed=slot_seed(seed, outlined.slug), qtype=outlined.qtype)


def plan_questions(assessment: Assessment, seed: int, bank: list[Template] | None = None) -> list[PlannedSlot]:
    """Without `bank`, the planned templates and versions carry their ids and drawing fields only (the cached
    bank outline); pass a loaded bank when the versions' content is needed (pre-generation)."""
    rng = random.Random(seed)
    if bank is None:
        outlined = _choose(assessment, rng, _bank_outline())
        rng.shuffle(outlined)
        return [_planned_from_outline(t, seed) for t in outlined]
    templates = _choose(assessment, rng, bank)
    rng.shuffle(templates)
    return [PlannedSlot(template=t, version=t.current_version, seed=slot_seed(seed, t.slug), qtype=t.qtype)
            for t in templates]


def publish_assessment(assessment: Assessment, *, by: Any = None, now: datetime | None = None) -> Assessment:
    """Publish at once, after checking the bank can assemble it; the class's variants are pre-generated in
    Celery. No pre-flight: the demo uses it. Staff publish through exams.publishing.start_publishing."""
    problems = check_blueprint(assessment)
    if problems:
        raise AssemblyError(problems)
    with transaction.atomic():
        assessment = Assessment.objects.select_for_update(no_key=True).get(pk=assessment.pk)
        assessment.state = Assessment.PUBLISHED
        assessment.published_at = assessment.published_at or (now or clock.now())
        assessment.pregen_state = Assessment.PREGEN_QUEUED
        assessment.pregen_done = assessment.pregen_total = 0
        assessment.pregen_message = ""
        assessment.pregen_updated_at = now or clock.now()
        assessment.save()
        dispatch.send_on_commit(dispatch.PREGENERATE_ASSESSMENT, assessment.pk)
    return assessment


def unpublish_assessment(assessment: Assessment) -> Assessment:
    if Attempt.objects.filter(assessment=assessment).exists():
        raise ValueError(f"{assessment.title} already has attempts; it cannot go back to draft")
    assessment.state = Assessment.DRAFT
    assessment.save(update_fields=["state"])
    return assessment


def pregeneration_pairs(assessment: Assessment) -> tuple[list[tuple[TemplateVersion, int]], list[str]]:
    """(version, seed) of every enrolled student's first attempt not yet started, and any assembly problems."""
    bank = _drawable_templates()
    started = set(Attempt.objects.filter(assessment=assessment).values_list("student_id", flat=True))
    student_ids = (Membership.objects.filter(course=assessment.course_id, role=Membership.STUDENT)
                   .exclude(user_id__in=started).values_list("user_id", flat=True).order_by("user_id"))
    pairs: dict[tuple[int, int], tuple[TemplateVersion, int]] = {}
    problems: list[str] = []
    for student_id in student_ids:
        try:
            for planned in plan_questions(assessment, attempt_seed(assessment, student_id, 1), bank):
                pairs[(planned.version.pk, planned.seed)] = (planned.version, planned.seed)
        except AssemblyError as error:
            problems = error.problems
            break
    return list(pairs.values()), problems


def _warm_quiz_pages(pairs: list[tuple[TemplateVersion, int]], chunk: int = 1000) -> None:
    """Render each pre-generated variant's quiz-page HTML here, in the worker, once, instead of in every student's
    first quiz-page request (exams.views.presentation.warm_question_fragments). Best effort: a cache that is down
    only means the pages render it themselves."""
    from exams.views.presentation import warm_question_fragments
    from quizbank.models import Variant

    try:
        for start in range(0, len(pairs), chunk):
            wanted = {(version.pk, seed) for version, seed in pairs[start:start + chunk]}
            rows = Variant.objects.filter(version_id__in={v for v, _ in wanted}, seed__in={s for _, s in wanted}) \
                .values_list("pk", "version_id", "seed", "public")
            warm_question_fragments((pk, public) for pk, version_id, seed, public in rows
                                    if (version_id, seed) in wanted)
    except Exception:  # noqa: BLE001  (never fail a pre-generation over its page cache)
        logger.warning("pre-generation: quiz-page fragments not cached", exc_info=True)


# A variant a worker could not generate for a waiting quiz page: the page shows "unavailable" instead of
# waiting for ever. Staff see the template's error where the response is graded.
_FAILURE_KEY = "variant-failure:{version_id}:{seed}"
_REQUESTED_KEY = "attempt-variants-requested:{attempt_id}"
FAILURE_SECONDS = 24 * 3600
REQUEST_AGAIN_SECONDS = 20  # a waiting page asks a worker again at most this often (a lost message)


def variant_failure(version_id: int, seed: int) -> str:
    from django.core.cache import cache

    try:
        return cache.get(_FAILURE_KEY.format(version_id=version_id, seed=seed)) or ""
    except Exception:  # noqa: BLE001  (a cache that is down: the page keeps waiting, the worker still works)
        return ""


def request_attempt_variants(attempt_id: int) -> None:
    """Ask a worker (grading queue: a student is waiting) for the attempt's missing variants, at most once per
    REQUEST_AGAIN_SECONDS whatever the number of tabs polling. A broker that is down only delays it."""
    from django.core.cache import cache

    try:
        first = cache.add(_REQUESTED_KEY.format(attempt_id=attempt_id), 1, REQUEST_AGAIN_SECONDS)
    except Exception:  # noqa: BLE001
        first = True
    if not first:
        return
    try:
        dispatch.send(dispatch.PREPARE_ATTEMPT_VARIANTS, attempt_id)
    except Exception as error:  # noqa: BLE001
        logger.warning("attempt %s: could not ask a worker for its variants (%s); the page asks again", attempt_id, error)


def prepare_attempt_variants(attempt_id: int) -> int:
    """Celery task body: generate the variants of one attempt that are not cached yet (batched, like a
    class's pre-generation), record the seeds a template fails on, and warm their quiz-page fragments.
    Safe to run twice: a variant is stored once (unique version + seed). Returns how many were missing."""
    from django.core.cache import cache

    from quizbank.models import Variant
    from quizbank.services import pregenerate

    wanted = list(_slot_pairs(attempt_id))
    cached = set(Variant.objects.filter(version_id__in={v for v, _ in wanted}, seed__in={s for _, s in wanted})
                 .values_list("version_id", "seed"))
    missing = [(version_id, seed) for version_id, seed in wanted if (version_id, seed) not in cached]
    if not missing:
        return 0
    versions = TemplateVersion.objects.select_related("template").in_bulk({v for v, _ in missing})
    pairs = [(versions[version_id], seed) for version_id, seed in missing]
    failures = pregenerate(pairs)
    by_slug_seed = {(version.template.slug, seed): version.pk for version, seed in pairs}
    for failure in failures:
        version_id = by_slug_seed.get((failure.slug, failure.seed))
        if version_id is not None:
            logger.error("attempt %s: %s", attempt_id, failure)
            try:
                cache.set(_FAILURE_KEY.format(version_id=version_id, seed=failure.seed), str(failure)[:500],
                          FAILURE_SECONDS)
            except Exception:  # noqa: BLE001
                logger.warning("could not record a variant failure in the cache", exc_info=True)
    _warm_quiz_pages(pairs)
    return len(missing)


def _slot_pairs(attempt_id: int) -> list[tuple[int, int]]:
    from exams.models import AttemptSlot

    return list(AttemptSlot.objects.filter(attempt_id=attempt_id).values_list("template_version_id", "seed"))


def pregenerate_assessment(assessment_id: int) -> None:
    """Celery task body: fill the variant cache for the whole class, recording progress for the progress bar."""
    from quizbank.services import pregenerate

    assessment = Assessment.objects.get(pk=assessment_id)
    pairs, problems = pregeneration_pairs(assessment)
    progress = Assessment.objects.filter(pk=assessment_id)
    progress.update(pregen_state=Assessment.PREGEN_RUNNING, pregen_done=0, pregen_total=len(pairs),
                    pregen_message="", pregen_updated_at=clock.now())
    if problems:
        progress.update(pregen_state=Assessment.PREGEN_FAILED, pregen_message="\n".join(problems),
                        pregen_updated_at=clock.now())
        return

    step = max(1, len(pairs) // 100)

    def report(done: int, total: int) -> None:
        if done == total or done % step == 0:
            progress.update(pregen_done=done, pregen_updated_at=clock.now())

    failures = pregenerate(pairs, progress=report)
    _warm_quiz_pages(pairs)
    if failures:
        message = "\n".join(str(f) for f in failures[:20])
        progress.update(pregen_state=Assessment.PREGEN_FAILED, pregen_message=message, pregen_updated_at=clock.now())
    else:
        progress.update(pregen_state=Assessment.PREGEN_DONE, pregen_done=len(pairs), pregen_updated_at=clock.now())
