"""An edit makes a new version; variants students already have never change."""
from __future__ import annotations

import pytest

from quizbank import services
from quizbank.models import Template, Variant
from quizbank.spec import TemplateError
from tests.specs import SOFTMAX_SHORT, edited

pytestmark = pytest.mark.django_db


def test_saving_a_new_template_creates_version_one():
    template = services.save_spec(SOFTMAX_SHORT)
    assert template.current_version.number == 1
    assert template.current_version.spec == SOFTMAX_SHORT.to_dict()


def test_saving_the_same_content_again_makes_no_new_version():
    services.save_spec(SOFTMAX_SHORT)
    template = services.save_spec(SOFTMAX_SHORT)
    assert template.versions.count() == 1


def test_an_edit_makes_a_new_version_and_keeps_the_old_variant_unchanged():
    template = services.save_spec(SOFTMAX_SHORT)
    first_version = template.current_version
    old_variant = services.variant_for(first_version, seed=3)

    template = services.save_spec(edited(SOFTMAX_SHORT, solution="answer = torch.softmax(torch.tensor(logits), dim=0)[1].item()\n"))
    assert template.current_version.number == 2
    new_variant = services.variant_for(template.current_version, seed=3)

    old_variant.refresh_from_db()
    assert services.variant_for(first_version, seed=3).key == old_variant.key
    assert new_variant.key["answer"] != old_variant.key["answer"]
    assert first_version.to_spec() == SOFTMAX_SHORT


def test_variants_are_cached_per_version_and_seed():
    version = services.save_spec(SOFTMAX_SHORT).current_version
    first = services.variant_for(version, seed=9)
    second = services.variant_for(version, seed=9)
    assert first.pk == second.pk
    assert Variant.objects.filter(version=version).count() == 1


def test_pregenerate_fills_the_cache_and_reports_progress():
    version = services.save_spec(SOFTMAX_SHORT).current_version
    seen = []
    failures = services.pregenerate([(version, seed) for seed in range(5)], progress=lambda d, t: seen.append((d, t)))
    assert failures == []
    assert seen[-1] == (5, 5)
    assert Variant.objects.filter(version=version).count() == 5


def test_a_statically_broken_spec_is_refused_and_nothing_is_saved():
    with pytest.raises(TemplateError) as caught:
        services.save_spec(edited(SOFTMAX_SHORT, parameters="logits = [1, 2\n"))
    assert caught.value.problems[0].part == "parameters"
    assert not Template.objects.exists()
