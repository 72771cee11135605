"""Reading the shipped bank in tests: find a template's notebook by slug and generate its variants."""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from quizbank.completion import grade_completion
from quizbank.engine import GeneratedVariant, generate
from quizbank.notebooks import find_notebooks, read_notebook
from quizbank.spec import TemplateSpec

BANK = Path(__file__).resolve().parent.parent / "bank"
NOTEBOOKS = find_notebooks(BANK)
SEEDS = (0, 1, 2)


@lru_cache(maxsize=None)
def spec_of(slug: str) -> TemplateSpec:
    matches = [path for path in NOTEBOOKS if path.stem == slug]
    assert len(matches) == 1, f"expected one notebook for {slug}, found {len(matches)}"
    return read_notebook(matches[0])


def variants(slug: str, seeds=SEEDS):
    """(params, answer, variant) for each seed: what the independent calculations check against."""
    spec = spec_of(slug)
    for seed in seeds:
        variant = generate(spec, seed)
        yield variant.key["params"], variant.key["answer"], variant


def fmt4(value: float) -> str:
    """The engine's default option format: integers plainly, else 4 significant digits."""
    value = float(value)
    return str(int(value)) if value == int(value) else format(value, ".4g")


def correct_option(variant: GeneratedVariant) -> str:
    return variant.public["options"][variant.key["correct_index"]]["text"]


def assert_full_marks_only_for_the_correct_fragment(slug: str, correct: str, mistaken: str, seeds=(0, 1)) -> None:
    """Another correct answer than the reference gets full marks; a typical mistake does not."""
    spec = spec_of(slug)
    for seed in seeds:
        expected = generate(spec, seed).key["expected_tests"]
        good = grade_completion(spec, seed, expected, correct)
        assert good.score == 1.0, (seed, good.summary, good.outcomes)
        bad = grade_completion(spec, seed, expected, mistaken)
        assert bad.score < 1.0, (seed, bad.summary)
