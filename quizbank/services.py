"""Template versions and variants: what views, admin actions, commands and tasks call.

A template's content is frozen into a new `TemplateVersion` whenever it changes; variants are cached per
(version, seed) and generated through the runner on a miss.
"""
from __future__ import annotations

import logging
import os
from concurrent.futures import ThreadPoolExecutor
from collections.abc import Callable, Iterable
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction

from quizbank.engine import GeneratedVariant, generate
from quizbank.models import Template, TemplateVersion, Variant
from quizbank.spec import TemplateError, TemplateSpec, check_static

logger = logging.getLogger(__name__)


@transaction.atomic
def save_spec(spec: TemplateSpec, *, user: Any = None, source_path: str = "") -> Template:
    """Create or update the template `spec.slug`; a change of content makes a new version.
    Raises TemplateError (and saves nothing) if the spec has static problems."""
    problems = check_static(spec)
    if problems:
        raise TemplateError(problems, slug=spec.slug)
    template = Template.objects.select_for_update().filter(slug=spec.slug).first() or Template(slug=spec.slug)
    template.apply_spec(spec)
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
    (the rest are generated); `progress(done, total)` is called as it goes. Variants are generated on every
    sandbox of the runner at once (threads only wait on the runner); the database is written from here."""
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

    def run(pair: tuple[TemplateVersion, int]) -> GeneratedVariant | TemplateError:
        version, seed = pair
        try:
            return generate(specs[version.id], seed, check=False)
        except TemplateError as error:
            return error

    with ThreadPoolExecutor(max_workers=runner_width()) as executor:
        for (version, _), outcome in zip(todo, executor.map(run, todo)):
            if isinstance(outcome, TemplateError):
                failures.append(outcome)
            else:
                _store(version, outcome)
            done += 1
            if progress is not None:
                progress(done, len(pairs))
    return failures


def runner_width() -> int:
    """How many jobs the runner pool of this process runs at once."""
    return settings.RUNNER_POOL_SIZE or os.cpu_count() or 1


def preview(spec: TemplateSpec, seeds: Iterable[int]) -> list[GeneratedVariant | TemplateError]:
    """Variants for the admin's side-by-side preview; nothing is cached (the spec may be unsaved)."""
    results: list[GeneratedVariant | TemplateError] = []
    problems = check_static(spec)
    if problems:
        return [TemplateError(problems, slug=spec.slug)]
    for seed in seeds:
        try:
            results.append(generate(spec, seed, check=False))
        except TemplateError as error:
            results.append(error)
    return results


def find_template(slug: str) -> Template:
    try:
        return Template.objects.select_related("current_version").get(slug=slug)
    except Template.DoesNotExist as exc:
        raise LookupError(f"no template with slug {slug!r}") from exc
