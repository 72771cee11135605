"""A variant is reproducible forever: all randomness comes from the seed."""
from __future__ import annotations

from dataclasses import replace

import pytest

from quizbank.engine import generate
from quizbank.selftest import selftest
from tests.specs import ALL_KINDS, SOFTMAX_SHORT


@pytest.mark.parametrize("spec", ALL_KINDS, ids=lambda s: s.kind + ":" + s.slug)
def test_the_same_seed_gives_the_same_variant(spec):
    assert generate(spec, seed=11).fingerprint() == generate(spec, seed=11).fingerprint()


def test_different_seeds_give_different_variants():
    fingerprints = {generate(SOFTMAX_SHORT, seed=seed).fingerprint() for seed in range(8)}
    assert len(fingerprints) == 8


def test_numpy_and_torch_generators_are_seeded_too():
    spec = replace(SOFTMAX_SHORT, parameters="logits = np_rng.normal(size=3).round(2).tolist()\n"
                                              "noise = torch.randn(2).tolist()\n")
    first, second = generate(spec, seed=5), generate(spec, seed=5)
    assert first.key["params"] == second.key["params"]
    assert first.key["params"] != generate(spec, seed=6).key["params"]


def test_the_self_test_catches_a_template_that_reads_the_clock():
    spec = replace(SOFTMAX_SHORT, parameters="import time\nlogits = [time.perf_counter_ns() % 1000 / 100, 0.0, 1.0]\n")
    report = selftest(spec, seeds=3, determinism_sample=3)
    assert any(f.category == "nondeterministic" for f in report.failures)


def test_the_distinct_variant_count_ignores_the_order_options_were_shuffled_into():
    from tests.specs import CONV_MCQ

    few_parameters = replace(CONV_MCQ, parameters="h = 32\nk = 3\ns = 2\np = 1\n")
    report = selftest(few_parameters, seeds=6, determinism_sample=1)
    assert report.ok and report.variants_ok == 6 and report.distinct == 1
