"""Run a template over many seeds and report everything an author must fix before students see it."""
from __future__ import annotations

import math
import re
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from quizbank.engine import GeneratedVariant, generate
from quizbank.services import runner_width
from quizbank.spec import Problem, TemplateError, TemplateSpec, check_static

DEFAULT_SEEDS = 50
DETERMINISM_SAMPLE = 5
MIN_DISTINCT_VARIANTS = 20  # over 200 seeds; fewer must be explained in the template's notes


@dataclass(frozen=True)
class Failure:
    category: str  # static, exception, timeout, nondeterministic, nan, ambiguous, collision, reference
    message: str
    seeds: tuple[int, ...] = ()

    def describe(self) -> str:
        if not self.seeds:
            return f"{self.category}: {self.message}"
        shown = ", ".join(str(s) for s in self.seeds[:5]) + (" ..." if len(self.seeds) > 5 else "")
        return f"{self.category}: {self.message} (seed{'s' if len(self.seeds) > 1 else ''} {shown})"


@dataclass
class SelfTestReport:
    slug: str
    seeds: int
    variants_ok: int = 0
    distinct: int = 0
    failures: list[Failure] = field(default_factory=list)
    mean_ms: float = 0.0
    max_ms: float = 0.0

    @property
    def ok(self) -> bool:
        return not self.failures

    def summary(self) -> str:
        status = "ok" if self.ok else f"{len(self.failures)} failure(s)"
        return (f"{self.slug}: {status}; {self.variants_ok}/{self.seeds} seeds ok, {self.distinct} distinct variants, "
                f"mean {self.mean_ms:.1f} ms, max {self.max_ms:.1f} ms")


def categorise(problem: Problem) -> str:
    text = problem.message
    if problem.part == "runtime" and "timed out" in text:
        return "timeout"
    if "contains nan" in text.lower() or "contains inf" in text.lower() or "contains -inf" in text.lower():
        return "nan"
    if "options collide" in text or "an MCQ needs at least" in text:
        return "collision"
    if problem.part == "reference":
        return "reference"
    return "exception"


def selftest(spec: TemplateSpec, seeds: int = DEFAULT_SEEDS, *, determinism_sample: int = DETERMINISM_SAMPLE) -> SelfTestReport:
    report = SelfTestReport(slug=spec.slug, seeds=seeds)
    static = check_static(spec)
    if static:
        report.failures = [Failure("static", str(problem)) for problem in static]
        return report

    def run(seed: int) -> GeneratedVariant | TemplateError:
        try:
            return generate(spec, seed, check=False)
        except TemplateError as error:
            return error

    seed_list = list(range(seeds))
    with ThreadPoolExecutor(max_workers=runner_width()) as executor:
        outcomes = list(executor.map(run, seed_list))
        sample = seed_list[:determinism_sample]
        again = list(executor.map(run, sample))

    grouped: dict[tuple[str, str], list[int]] = {}
    fingerprints: list[str] = []
    timings: list[float] = []
    for seed, outcome in zip(seed_list, outcomes):
        if isinstance(outcome, TemplateError):
            for problem in outcome.problems:
                grouped.setdefault((categorise(problem), str(problem)), []).append(seed)
            continue
        fingerprints.append(outcome.question_fingerprint())
        timings.append(outcome.wall_ms)
        answer_problem = _answer_problem(outcome)
        if answer_problem:
            grouped.setdefault(answer_problem, []).append(seed)
    for seed, first, second in zip(sample, outcomes, again):
        if isinstance(first, GeneratedVariant) and isinstance(second, GeneratedVariant):
            if first.fingerprint() != second.fingerprint():
                grouped.setdefault(("nondeterministic", "the same seed gave a different variant"), []).append(seed)
        elif isinstance(first, GeneratedVariant) != isinstance(second, GeneratedVariant):
            grouped.setdefault(("nondeterministic", "the same seed failed once and worked once"), []).append(seed)

    report.failures = [Failure(category, message, tuple(failed)) for (category, message), failed in grouped.items()]
    report.variants_ok = len(fingerprints)
    report.distinct = len(Counter(fingerprints))
    if timings:
        report.mean_ms = sum(timings) / len(timings)
        report.max_ms = max(timings)
    return report


_NEGATIVE_ZERO = re.compile(r"(?<![\w.])-0(\.0*)?(?![\d.])")


def _answer_problem(variant: GeneratedVariant) -> tuple[str, str] | None:
    """(category, message) for an answer no student should be asked for, or None."""
    answer = variant.key.get("answer")
    if variant.public.get("kind") == "output" and _NEGATIVE_ZERO.search(str(answer)):
        return "ambiguous", "the program prints a negative zero, which students cannot be expected to predict"
    values = answer if isinstance(answer, list) else [answer]
    for value in values:
        if isinstance(value, float) and not math.isfinite(value):
            return "nan", f"the answer is {value!r}"
    for option in variant.public.get("options") or []:
        if option["text"].lower() in {"nan", "inf", "-inf"}:
            return "nan", f"an option reads {option['text']!r}"
    return None
