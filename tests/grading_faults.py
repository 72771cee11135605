"""Real grading failures for the tests of grading that cannot block a submit.

`broken_template()` saves a short-answer template that passes every static check and generates fine, but whose
answer config makes the real checker raise while grading (sigfigs of 10**400: the tolerance 10.0 ** -sigfigs
overflows). `fix_template()` saves the fixed version, as an author would after the error report."""
from __future__ import annotations

from dataclasses import replace

from quizbank import services as bank
from quizbank.checking import check
from quizbank.models import Template
from tests.exams_personas import spec_for

BROKEN_SLUG = "sigfigs-broken"
BROKEN_SPEC = spec_for(BROKEN_SLUG, "short", "short", answer={"format": "numeric", "sigfigs": 10 ** 400})


def broken_template(slug: str = BROKEN_SLUG) -> Template:
    return bank.save_spec(replace(BROKEN_SPEC, slug=slug))


def fix_template(template: Template) -> Template:
    return bank.save_spec(replace(template.to_spec(), answer={"format": "numeric", "sigfigs": 2}))


def assert_the_checker_raises(slot, text: str) -> None:
    """The precondition the failure tests rest on: this answer makes the real checker raise (not score 0)."""
    variant = bank.variant_for(slot.template_version, slot.seed)
    try:
        check(variant.public, variant.key, slot.template_version.spec["answer"], text)
    except Exception:
        return
    raise AssertionError(f"{slot.template.slug} no longer makes quizbank.checking.check raise; these tests need "
                         "another real grading failure")
