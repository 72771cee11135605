"""Pre-generation writes a batch of variants in one statement (COPY on PostgreSQL, an INSERT elsewhere); what
it stores reads back exactly as generated, and a batch that meets variants another worker stored first keeps
theirs and stores the rest."""
from __future__ import annotations

import pytest

from quizbank.engine import generate
from quizbank.models import Variant
from quizbank.services import save_spec, store_variants
from tests.specs import CONV_MCQ, SOFTMAX_SHORT, edited

pytestmark = pytest.mark.django_db


def _rows(version, seeds):
    rows = []
    for seed in seeds:
        made = generate(CONV_MCQ, seed)
        rows.append(Variant(version=version, seed=seed, public=made.public, key=made.key, generation_ms=made.wall_ms))
    return rows


def test_a_stored_batch_reads_back_exactly_as_generated():
    version = save_spec(CONV_MCQ).current_version
    rows = _rows(version, [0, 1, 2])
    store_variants(rows)
    stored = {v.seed: v for v in Variant.objects.filter(version=version)}
    assert sorted(stored) == [0, 1, 2]
    for row in rows:
        assert (stored[row.seed].public, stored[row.seed].key) == (row.public, row.key)
        assert stored[row.seed].created_at is not None


def test_a_batch_that_meets_variants_stored_first_keeps_them_and_stores_the_rest():
    version = save_spec(CONV_MCQ).current_version
    store_variants(_rows(version, [0]))
    first = Variant.objects.get(version=version, seed=0)
    store_variants(_rows(version, [0, 1, 2]))
    assert Variant.objects.filter(version=version).count() == 3
    assert Variant.objects.get(version=version, seed=0).pk == first.pk


def test_a_variant_whose_parameters_hold_nan_or_infinity_is_stored_as_strict_json():
    diverging = edited(SOFTMAX_SHORT, slug="diverging-losses",
                       parameters="losses = [2.3, 9.7, float('inf'), float('nan')]\nlogits = [0.0, 1.0, 2.0]\n",
                       stem="The loss went {{ losses }}. Probability of class 0 under softmax of {{ logits }}?")
    version = save_spec(diverging).current_version
    made = generate(diverging, 0)
    assert made.key["params"]["losses"] == [2.3, 9.7, "inf", "nan"]
    store_variants([Variant(version=version, seed=0, public=made.public, key=made.key)])
    assert Variant.objects.get(version=version, seed=0).key["params"]["losses"][3] == "nan"
