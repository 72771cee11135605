"""Template versions and variants: what views, admin actions, commands and tasks call.

A template's content is frozen into a new `TemplateVersion` whenever it changes; variants are cached per
(version, seed) and generated through the runner on a miss.
"""
from __future__ import annotations

import json
import logging
from concurrent.futures import ThreadPoolExecutor, as_completed
from collections.abc import Callable, Iterable
from typing import Any

from django.conf import settings
from django.db import IntegrityError, connection, transaction

from quizbank.engine import GeneratedVariant, generate, generate_many, runner_width, seed_batches
from quizbank.models import Template, TemplateVersion, Variant
from quizbank.selftest import check_before_use
from quizbank.spec import TemplateError, TemplateSpec, check_static

logger = logging.getLogger(__name__)


@transaction.atomic
def save_spec(spec: TemplateSpec, *, user: Any = None, source_path: str = "", ready: bool | None = None) -> Template:
    """Create or update the template `spec.slug`; a change of content makes a new version.
    Raises TemplateError (and saves nothing) if the spec has static problems. `ready` sets the status
    (True: ready to be drawn, False: a draft; None: a new template is ready, an existing one keeps its own).
    The seeds are checked by the callers that accept authors' work (import, the admin's Save)."""
    problems = check_static(spec)
    if problems:
        raise TemplateError(problems, slug=spec.slug)
    template = Template.objects.select_for_update(no_key=True).filter(slug=spec.slug).first() or Template(slug=spec.slug)
    template.apply_spec(spec)
    if ready is not None:
        template.status = Template.READY if ready else Template.DRAFT
    if source_path:
        template.source_path = source_path
    template.save()
    freeze_version(template, user=user)
    return template


def freeze_version(template: Template, *, user: Any = None) -> TemplateVersion:
    """Make `template.current_version` match its content, creating a version only if the content changed."""
    spec = template.to_spec()
    content_hash = spec.content_hash()
    current = template.current_version
    if current is not None and current.content_hash == content_hash:
        return current
    last_number = template.versions.order_by("-number").values_list("number", flat=True).first() or 0
    version = TemplateVersion.objects.create(
        template=template,
        number=last_number + 1,
        spec=spec.to_dict(),
        content_hash=content_hash,
        created_by=user if getattr(user, "is_authenticated", False) else None,
    )
    template.current_version = version
    template.save(update_fields=["current_version", "updated_at"])
    if version.created_by is not None:  # a person's edit (admin, notebook import), not a system load
        from exams import audit  # the audit log lives with the courses; templates belong to no course

        audit.record(actor=version.created_by, action=audit.TEMPLATE_EDIT, course=None, target=version,
                     before={"template": template.slug, "version": last_number or None,
                             "content_hash": current.content_hash if current is not None else None},
                     after={"template": template.slug, "version": version.number, "content_hash": content_hash})
    return version


def variant_for(version: TemplateVersion, seed: int) -> Variant:
    """The cached variant of (version, seed), generated on a miss. Raises TemplateError if it can't be."""
    existing = Variant.objects.filter(version=version, seed=seed).first()
    if existing is not None:
        return existing
    generated = generate(version.to_spec(), seed)
    return _store(version, generated)


def stored_variants(pairs: Iterable[tuple[int, int]]) -> dict[tuple[int, int], Variant]:
    """The variants already stored for these (version id, seed) pairs, in one query; a missing pair is absent."""
    wanted = set(pairs)
    if not wanted:
        return {}
    rows = Variant.objects.filter(version_id__in={version for version, _ in wanted},
                                  seed__in={seed for _, seed in wanted})
    return {(row.version_id, row.seed): row for row in rows if (row.version_id, row.seed) in wanted}


def _store(version: TemplateVersion, generated: GeneratedVariant) -> Variant:
    try:
        with transaction.atomic():
            return Variant.objects.create(
                version=version, seed=generated.seed, public=generated.public, key=generated.key,
                generation_ms=generated.wall_ms,
            )
    except IntegrityError:  # another worker generated the same variant first; both are identical
        return Variant.objects.get(version=version, seed=generated.seed)


def pregenerate(
    pairs: Iterable[tuple[TemplateVersion, int]],
    progress: Callable[[int, int], None] | None = None,
) -> list[TemplateError]:
    """Fill the variant cache for many (version, seed) pairs before a class starts. Returns the failures
    (the rest are generated); `progress(done, total)` is called as it goes. Variants are generated many seeds
    per runner job (engine.generate_many), on every sandbox of the runner at once; the database is written
    from this thread, a batch at a time."""
    pairs = list(pairs)
    failures: list[TemplateError] = []
    cached = {
        (version_id, seed)
        for version_id, seed in Variant.objects.filter(version__in={v for v, _ in pairs}).values_list("version_id", "seed")
    }
    todo = list(dict.fromkeys((version, seed) for version, seed in pairs if (version.id, seed) not in cached))
    specs = {version.id: version.to_spec() for version, _ in todo}
    done = len(pairs) - len(todo)
    if progress is not None and done:
        progress(done, len(pairs))

    seeds_of: dict[int, list[int]] = {}
    for version, seed in todo:
        seeds_of.setdefault(version.id, []).append(seed)
    batches = [(version_id, chunk) for version_id, seeds in seeds_of.items() for chunk in seed_batches(seeds)]

    def run(batch: tuple[int, list[int]]) -> list[GeneratedVariant | TemplateError]:
        version_id, chunk = batch
        return generate_many(specs[version_id], chunk, check=False, batch_size=len(chunk))

    # One thread more than sandboxes: while a thread renders its batch's HTML, its sandbox has the next job.
    with ThreadPoolExecutor(max_workers=runner_width() + 1) as executor:
        futures = {executor.submit(run, batch): batch for batch in batches}
        for future in as_completed(futures):
            version_id, chunk = futures[future]
            rows = []
            for outcome in future.result():
                if isinstance(outcome, TemplateError):
                    failures.append(outcome)
                else:
                    rows.append(Variant(version_id=version_id, seed=outcome.seed, public=outcome.public,
                                        key=outcome.key, generation_ms=outcome.wall_ms))
            store_variants(rows)
            done += len(chunk)
            if progress is not None:
                progress(done, len(pairs))
    return failures


def store_variants(rows: list[Variant]) -> None:
    """Insert freshly generated variants; one another worker stored first is kept (the JSON is written as the
    JSONField writes it). On PostgreSQL through COPY:
    bulk_create spent a quarter of a class's pre-generation adapting the rows' JSON in Python while holding the
    interpreter lock the sandbox threads need (docs/benchmarks.md)."""
    if not rows:
        return
    if connection.vendor == "postgresql":
        try:
            with transaction.atomic():
                _copy_variants(rows)
            return
        except IntegrityError:  # a row another worker stored meanwhile: the slow path skips it
            pass
    Variant.objects.bulk_create(rows, ignore_conflicts=True)


def _copy_variants(rows: list[Variant]) -> None:
    from django.utils import timezone

    now = timezone.now()
    table = connection.ops.quote_name(Variant._meta.db_table)
    with connection.cursor() as cursor, connection.wrap_database_errors:
        with cursor.cursor.copy(f"COPY {table} (version_id, seed, public, key, generation_ms, created_at) "
                                "FROM STDIN") as copy:
            for row in rows:
                copy.write_row((row.version_id, row.seed, json.dumps(row.public),
                                json.dumps(row.key), row.generation_ms, now))


def preview(spec: TemplateSpec, seeds: Iterable[int], *, parallel: bool = True) -> list[GeneratedVariant | TemplateError]:
    """Variants for the admin's side-by-side preview and preview_template; nothing is cached (the spec may be
    unsaved). Seeds run on every sandbox at once unless `parallel` is False."""
    problems = check_static(spec)
    if problems:
        return [TemplateError(problems, slug=spec.slug)]

    def run(seed: int) -> GeneratedVariant | TemplateError:
        try:
            return generate(spec, seed, check=False)
        except TemplateError as error:
            return error

    seeds = list(seeds)
    if not parallel or len(seeds) < 2:
        return [run(seed) for seed in seeds]
    with ThreadPoolExecutor(max_workers=runner_width()) as executor:
        return list(executor.map(run, seeds))


def check_seeds() -> int:
    """How many seeds import and the admin's Save run before accepting a template."""
    return int(getattr(settings, "QUIZBANK_CHECK_SEEDS", 20))


def check_before_save(spec: TemplateSpec, seeds: int | None = None) -> Any:
    """The self-test a template must pass before it may be saved as ready (a SelfTestReport)."""
    return check_before_use(spec, check_seeds() if seeds is None else seeds)


def find_template(slug: str) -> Template:
    try:
        return Template.objects.select_related("current_version").get(slug=slug)
    except Template.DoesNotExist as exc:
        raise LookupError(f"no template with slug {slug!r}") from exc
