"""Many seeds per runner job (engine.generate_many, services.pregenerate): every batched variant is byte for byte
the variant one job per seed gives, and a seed that fails is that seed's error, never the batch's."""
from __future__ import annotations

import json

import pytest

from quizbank import services
from quizbank.engine import GeneratedVariant, generate, generate_many
from quizbank.models import Variant
from quizbank.spec import TemplateError, TemplateSpec
from tests.specs import ALL_KINDS, COMPLETION, SOFTMAX_SHORT, edited

SEEDS = [0, 1, 2, 7, 123456789]


def single(spec: TemplateSpec, seed: int) -> GeneratedVariant | TemplateError:
    try:
        return generate(spec, seed)
    except TemplateError as error:
        return error


def as_bytes(outcome: GeneratedVariant | TemplateError) -> str:
    if isinstance(outcome, TemplateError):
        return "error: " + outcome.describe()
    return json.dumps([outcome.seed, outcome.public, outcome.key], sort_keys=True)


@pytest.mark.parametrize("spec", ALL_KINDS, ids=lambda spec: spec.slug)
def test_a_batched_variant_is_byte_identical_to_the_one_a_single_job_makes(spec):
    batched = generate_many(spec, SEEDS, batch_size=3)  # two jobs: the second starts mid-list
    assert [as_bytes(outcome) for outcome in batched] == [as_bytes(single(spec, seed)) for seed in SEEDS]


# Process-wide settings a template may change: alone, each seed starts from a fresh process.
LEAKY = TemplateSpec(
    slug="test-leaky-globals", title="Changes global settings", kind="short", qtype="short", lectures=(1,),
    parameters=("if seed % 2 == 0:\n    torch.set_default_dtype(torch.float64)\n    np.set_printoptions(precision=2)\n"
                "    torch.set_grad_enabled(False)\n"),
    stem="Which dtype?",
    solution=("answer = [str(torch.zeros(1).dtype) + ' ' + np.array2string(np.array([1 / 3]))"
              " + ' ' + str(torch.is_grad_enabled())]\n"),
    answer={"format": "text"},
)


def test_a_seed_sees_none_of_the_global_settings_an_earlier_seed_of_its_batch_changed():
    seeds = [0, 1, 2, 3]
    batched = generate_many(LEAKY, seeds)
    assert [as_bytes(outcome) for outcome in batched] == [as_bytes(single(LEAKY, seed)) for seed in seeds]
    assert batched[1].key["answer"] == ["torch.float32 [0.33333333] True"]


SOMETIMES_BROKEN = edited(
    SOFTMAX_SHORT, slug="test-sometimes-broken",
    parameters=SOFTMAX_SHORT.parameters + "if seed % 3 == 0:\n    raise ValueError(f'no logits for seed {seed}')\n")


def test_a_seed_that_fails_in_a_batch_is_reported_with_its_place_and_the_others_are_generated():
    seeds = list(range(7))
    batched = generate_many(SOMETIMES_BROKEN, seeds)
    failed = [outcome.seed for outcome in batched if isinstance(outcome, TemplateError)]
    assert failed == [0, 3, 6]
    problem = batched[3].problems[0]
    assert (problem.part, problem.line) == ("parameters", 3)
    assert "ValueError: no logits for seed 3" in problem.message
    assert [as_bytes(outcome) for outcome in batched] == [as_bytes(single(SOMETIMES_BROKEN, seed)) for seed in seeds]


def test_a_seed_that_runs_out_of_time_is_run_alone_and_reported_as_a_timeout_while_the_others_are_kept():
    hangs = edited(COMPLETION, slug="test-hangs-for-one-seed", limits={"cpu_seconds": 1, "wall_seconds": 2},
                   parameters=COMPLETION.parameters + "while seed == 2:\n    pass\n")
    batched = generate_many(hangs, [1, 2, 3])
    assert isinstance(batched[0], GeneratedVariant) and isinstance(batched[2], GeneratedVariant)
    assert isinstance(batched[1], TemplateError) and "timed out" in batched[1].describe()


@pytest.mark.django_db
def test_pregeneration_stores_every_seed_that_works_and_returns_the_failing_seeds():
    template = services.save_spec(SOMETIMES_BROKEN)
    version = template.current_version
    progress: list[tuple[int, int]] = []
    failures = services.pregenerate([(version, seed) for seed in range(10)], progress=lambda d, t: progress.append((d, t)))
    assert sorted(error.seed for error in failures) == [0, 3, 6, 9]
    assert all(error.slug == "test-sometimes-broken" for error in failures)
    stored = set(Variant.objects.filter(version=version).values_list("seed", flat=True))
    assert stored == {1, 2, 4, 5, 7, 8}
    assert progress[-1] == (10, 10)
    for seed in stored:  # stored exactly as variant_for would have generated it
        assert Variant.objects.get(version=version, seed=seed).public == generate(version.to_spec(), seed).public
