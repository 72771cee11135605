"""Run a template over many seeds and report everything an author must fix before students see it.

Two categories: *failures* (the template is broken for some seed, or a listed mistake earns too much: it
must not be used) and *warnings* (the template works but is a weak question: a student could guess the
answer from the options' ranks or lengths, one answer covers a large share of seeds, too few distinct
variants, options too close to tell apart). Warnings never block; they are always shown.
"""
from __future__ import annotations

import json
import math
import re
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Callable, TypeVar

from quizbank.engine import GeneratedVariant, generate, generate_many, runner_width
from quizbank.spec import Problem, TemplateError, TemplateSpec, _bound_names, check_static, nondeterminism_risks

DEFAULT_SEEDS = 50
DETERMINISM_SAMPLE = 5
MISTAKE_SEEDS = 3  # seeds each listed mistake, alternative and the reference are graded on
MIN_DISTINCT_VARIANTS = 20  # over 200 seeds; fewer must be explained in the template's notes
SAME_RANK_SHARE = 0.75  # the correct option at one rank among numeric options in this share of seeds
COMMON_ANSWER_SHARE = 0.4  # one short-answer value in this share of seeds
MIN_SEEDS_FOR_PATTERNS = 5  # below this a pattern over seeds says nothing

T = TypeVar("T")


@dataclass(frozen=True)
class Failure:
    """A failure, or (in `SelfTestReport.warnings`) a warning; `category` names its kind."""

    category: str  # static, exception, timeout, nondeterministic, nan, ambiguous, collision, reference, mistake,
    # alternative; warnings: same-rank, longest-option, common-answer, few-variants, close-options, id-or-hash,
    # model-answer, rubric-items
    message: str
    seeds: tuple[int, ...] = ()
    part: str = ""  # the template part (cell) it is located in, when known
    line: int | None = None

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
    warnings: list[Failure] = field(default_factory=list)
    # Warnings the author looked at and explained in `notes` ("warning close-options: why it is fine").
    explained: list[tuple[Failure, str]] = field(default_factory=list)
    mean_ms: float = 0.0
    max_ms: float = 0.0

    @property
    def ok(self) -> bool:
        return not self.failures

    def summary(self) -> str:
        status = "ok" if self.ok else f"{len(self.failures)} failure(s)"
        if self.warnings:
            status += f", {len(self.warnings)} warning(s)"
        if self.explained:
            status += f", {len(self.explained)} explained"
        return (f"{self.slug}: {status}; {self.variants_ok}/{self.seeds} seeds ok, {self.distinct} distinct variants, "
                f"mean {self.mean_ms:.1f} ms, max {self.max_ms:.1f} ms")

    def to_json(self) -> dict[str, Any]:
        return {"slug": self.slug, "ok": self.ok, "seeds": self.seeds, "variants_ok": self.variants_ok,
                "distinct": self.distinct,
                "failures": [{"category": f.category, "message": f.message, "seeds": list(f.seeds)} for f in self.failures],
                "warnings": [{"category": w.category, "message": w.message, "seeds": list(w.seeds)} for w in self.warnings],
                "explained": [{"category": w.category, "message": w.message, "why": why} for w, why in self.explained]}


def categorise(problem: Problem) -> str:
    text = problem.message
    if problem.part == "runtime" and "timed out" in text:
        return "timeout"
    if text.startswith("nondeterministic"):
        return "nondeterministic"
    if "contains nan" in text.lower() or "contains inf" in text.lower() or "contains -inf" in text.lower():
        return "nan"
    if "options collide" in text or "an MCQ needs at least" in text:
        return "collision"
    if problem.part == "reference":
        return "reference"
    return "exception"


class _Grouped:
    """Failures of the same kind over many seeds become one line: the first seed's message, every seed."""

    def __init__(self) -> None:
        self.items: dict[tuple[str, str], tuple[str, list[int], str, int | None]] = {}

    def add(self, category: str, message: str, seed: int | None = None, key: str | None = None, part: str = "",
            line: int | None = None) -> None:
        entry = self.items.setdefault((category, key or message), (message, [], part, line))
        if seed is not None:
            entry[1].append(seed)

    def failures(self) -> list[Failure]:
        return [Failure(category, message, tuple(seeds), part, line)
                for (category, _), (message, seeds, part, line) in self.items.items()]


def _parallel(function: Callable[..., T], *argument_lists: list) -> list[T]:
    with ThreadPoolExecutor(max_workers=runner_width()) as executor:
        return list(executor.map(function, *argument_lists))


def selftest(spec: TemplateSpec, seeds: int = DEFAULT_SEEDS, *, determinism_sample: int = DETERMINISM_SAMPLE,
             mistake_seeds: int = MISTAKE_SEEDS) -> SelfTestReport:
    """Seeds 0..seeds-1 in parallel on the runner pool, the first `determinism_sample` again, and (code
    completion) the reference, the alternatives and the listed mistakes through the real grading."""
    report = SelfTestReport(slug=spec.slug, seeds=seeds)
    static = check_static(spec)
    if static:
        report.failures = [Failure("nondeterministic" if p.message.startswith("nondeterministic") else "static", str(p),
                                   part=p.part, line=p.line) for p in static]
        return report

    def run(seed: int) -> GeneratedVariant | TemplateError:
        try:
            return generate(spec, seed, check=False)
        except TemplateError as error:
            return error

    seed_list = list(range(seeds))
    sample = seed_list[:determinism_sample]
    # The seeds in batched jobs (one job runs many seeds: byte-identical to one job each, tests/
    # test_batch_generation.py), the determinism sample again in jobs of their own, on the other sandbox.
    with ThreadPoolExecutor(max_workers=runner_width()) as executor:
        reruns = executor.map(run, sample)
        outcomes = generate_many(spec, seed_list, check=False)
        again = list(reruns)

    grouped = _Grouped()
    fingerprints: list[str] = []
    timings: list[float] = []
    ok_variants: list[GeneratedVariant] = []
    for seed, outcome in zip(seed_list, outcomes):
        if isinstance(outcome, TemplateError):
            for problem in outcome.problems:
                grouped.add(categorise(problem), str(problem), seed, part=problem.part, line=problem.line)
            continue
        ok_variants.append(outcome)
        fingerprints.append(outcome.question_fingerprint())
        timings.append(outcome.wall_ms)
        answer_problem = _answer_problem(outcome)
        if answer_problem:
            grouped.add(*answer_problem, seed)
    for seed, first, second in zip(sample, outcomes, again):
        difference = _difference(spec, first, second)
        if difference:
            grouped.add("nondeterministic", difference, seed, key="differs")
    _grade_fragments(spec, ok_variants[:mistake_seeds], grouped)

    report.failures = grouped.failures()
    report.variants_ok = len(fingerprints)
    report.distinct = len(Counter(fingerprints))
    if timings:
        report.mean_ms = sum(timings) / len(timings)
        report.max_ms = max(timings)
    report.warnings, report.explained = split_explained(
        spec, weak_question_warnings(spec, ok_variants, report.distinct, seeds))
    return report


_EXPLAINED_WARNING = re.compile(r"^\s*warning\s+([a-z][a-z-]*)\s*:\s*(\S.*)$", re.IGNORECASE | re.MULTILINE)


def explained_warnings(spec: TemplateSpec) -> dict[str, str]:
    """The warning kinds the template's notes explain, one line each: `warning close-options: <why>`."""
    return {match.group(1).lower(): match.group(2).strip() for match in _EXPLAINED_WARNING.finditer(spec.notes)}


def split_explained(spec: TemplateSpec, warnings: list[Failure]) -> tuple[list[Failure], list[tuple[Failure, str]]]:
    """(warnings still open, warnings the author explained): an explanation only counts for its own kind."""
    reasons = explained_warnings(spec)
    open_warnings = [w for w in warnings if w.category not in reasons]
    return open_warnings, [(w, reasons[w.category]) for w in warnings if w.category in reasons]


# --- non-determinism, located ---------------------------------------------------------------------

def _difference(spec: TemplateSpec, first: GeneratedVariant | TemplateError,
                second: GeneratedVariant | TemplateError) -> str | None:
    """What differed between two runs of one seed, naming the variable, the cell that sets it and both values."""
    if isinstance(first, TemplateError) and isinstance(second, TemplateError):
        return None
    if isinstance(first, TemplateError) or isinstance(second, TemplateError):
        error = first if isinstance(first, TemplateError) else second
        return f"nondeterministic: the same seed failed once ({'; '.join(str(p) for p in error.problems)}) and worked once"
    if first.fingerprint() == second.fingerprint():
        return None
    cells = _cells_binding(spec)
    differences = []
    first_params, second_params = first.key.get("params", {}), second.key.get("params", {})
    for name in sorted(set(first_params) | set(second_params)):
        if first_params.get(name) != second_params.get(name):
            where = f" (set in {cells[name]})" if name in cells else ""
            differences.append(f"`{name}`{where} was {_short(first_params.get(name))} then {_short(second_params.get(name))}")
    if first.key.get("answer") != second.key.get("answer"):
        where = f" (set in {cells['answer']})" if "answer" in cells else ""
        differences.append(f"`answer`{where} was {_short(first.key.get('answer'))} then {_short(second.key.get('answer'))}")
    if not differences:
        for part in ("stem_md", "program", "scaffold", "options"):
            if first.public.get(part) != second.public.get(part):
                differences.append(f"the {part.removesuffix('_md')} was {_short(first.public.get(part))} "
                                   f"then {_short(second.public.get(part))}")
        if first.key.get("expected_tests") != second.key.get("expected_tests"):
            differences.append("the reference's test values differed (a test draws from an unseeded source)")
    return "nondeterministic: the same seed gave a different variant: " + "; ".join(differences or ["its content differed"])


def _cells_binding(spec: TemplateSpec) -> dict[str, str]:
    cells: dict[str, str] = {}
    for part in ("parameters", "solution", "misconceptions", "tests", "public_tests"):
        try:
            for name in _bound_names(getattr(spec, part)):
                cells.setdefault(name, f"the {part.replace('_', ' ')} cell")
        except SyntaxError:
            continue
    return cells


def _short(value: Any) -> str:
    text = json.dumps(value, default=str) if not isinstance(value, str) else repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


# --- mistakes and alternative solutions through the real grading ------------------------------------

@dataclass(frozen=True)
class FragmentGrade:
    """One listed fragment (the reference, an alternative, a mistake) graded for one seed."""

    label: str
    kind: str  # reference, alternative, mistake
    seed: int
    score: float
    cap: float  # the reference and alternatives need 1.0; a mistake may earn at most its max_score
    detail: str

    @property
    def ok(self) -> bool:
        return self.score >= 1.0 if self.kind != "mistake" else self.score <= self.cap + 1e-9


def grade_fragments(spec: TemplateSpec, variants: list[GeneratedVariant]) -> list[FragmentGrade]:
    """The reference, each alternative and each mistake through the real grading (both jobs), per variant."""
    if spec.kind != "completion" or not variants:
        return []
    from quizbank.completion import grade_completion

    fragments: list[tuple[str, str, str, float]] = [("the reference", "reference", spec.reference, 1.0)]
    fragments += [(f"alternative {i}", "alternative", code, 1.0) for i, code in enumerate(spec.alternatives, start=1)]
    fragments += [(f"mistake {m['name']!r}", "mistake", m["code"], float(m["max_score"])) for m in spec.mistakes]
    jobs = [(fragment, variant) for fragment in fragments for variant in variants]

    def grade(job: tuple[tuple[str, str, str, float], GeneratedVariant]) -> FragmentGrade:
        (label, kind, code, cap), variant = job
        graded = grade_completion(spec, variant.seed, variant.key["expected_tests"], code)
        failed = [o.message for o in graded.outcomes if o.visible and not o.passed and o.message]
        return FragmentGrade(label, kind, variant.seed, graded.score, cap, " ".join([graded.summary, *failed[:2]])[:300])

    return _parallel(grade, jobs)


def _grade_fragments(spec: TemplateSpec, variants: list[GeneratedVariant], grouped: _Grouped) -> None:
    for graded in grade_fragments(spec, variants):
        if graded.ok:
            continue
        if graded.kind == "mistake":
            grouped.add("mistake", f"{graded.label} scores {graded.score:.2f}, above its max_score {graded.cap:g}: the "
                        "tests do not catch this mistake", graded.seed, key=graded.label, part="mistakes")
        else:
            grouped.add(graded.kind, f"{graded.label} is correct but the grading gives it {graded.score:.2f}: "
                        f"{graded.detail}", graded.seed, key=graded.label,
                        part="reference" if graded.kind == "reference" else "alternatives")


# --- weak questions ---------------------------------------------------------------------------------

_NUMBER = re.compile(r"^\s*\$?\s*([-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?)\s*\$?\s*$")


def _as_number(text: str) -> float | None:
    match = _NUMBER.match(text.replace("−", "-"))
    return float(match.group(1)) if match else None


def _display_unit(text: str) -> float:
    """The value of one step in the last digit shown: '0.125' -> 0.001, '1.5e-3' -> 0.0001, '12' -> 1."""
    mantissa, _, exponent = text.strip().strip("$").strip().lower().partition("e")
    decimals = len(mantissa.split(".", 1)[1]) if "." in mantissa else 0
    return 10.0 ** (-decimals + (int(exponent) if exponent.lstrip("+-").isdigit() else 0))


def _rank_name(rank: int, count: int) -> str:
    if rank == 0:
        return "the smallest"
    if rank == count - 1:
        return "the largest"
    return f"number {rank + 1} from the smallest"


def weak_question_warnings(spec: TemplateSpec, variants: list[GeneratedVariant], distinct: int,
                           seeds: int) -> list[Failure]:
    risks = nondeterminism_risks(spec)
    warnings = [Failure("id-or-hash", "`id()` or `hash()` differs between runs; make sure nothing shown or compared "
                        "depends on it: " + ", ".join(f"{p.part} line {p.line}" for p in risks),
                        part=risks[0].part, line=risks[0].line)] if risks else []
    if spec.kind == "mcq":
        warnings += _option_warnings(variants)
    if spec.kind == "short" and spec.answer.get("format") == "manual":
        warnings += _manual_answer_warnings(spec)
    if spec.kind == "short" and spec.answer.get("format", "numeric") != "manual" and len(variants) >= MIN_SEEDS_FOR_PATTERNS:
        values = Counter(json.dumps(v.key.get("answer"), sort_keys=True) for v in variants)
        value, count = values.most_common(1)[0]
        if count / len(variants) >= COMMON_ANSWER_SHARE:
            seeds_with = tuple(v.seed for v in variants if json.dumps(v.key.get("answer"), sort_keys=True) == value)
            warnings.append(Failure("common-answer", f"the answer is {value} in {count} of {len(variants)} seeds: a "
                                    "student can guess it; widen the parameter ranges", seeds_with))
    threshold = min(MIN_DISTINCT_VARIANTS, seeds // 2)
    if variants and distinct < threshold and not spec.notes.strip():
        warnings.append(Failure("few-variants", f"only {distinct} distinct variants over {seeds} seeds, and the notes "
                                f"do not say why (fewer than {threshold} must be explained in `notes`)"))
    return warnings


def _manual_answer_warnings(spec: TemplateSpec) -> list[Failure]:
    warnings = []
    if not spec.model_answer.strip():
        warnings.append(Failure("model-answer", "a manually graded question needs a model answer for its variant "
                                "(the `model-answer` cell): graders read it beside each response", part="model_answer"))
    if not isinstance(spec.answer.get("rubric"), list):
        warnings.append(Failure("rubric-items", "give the rubric as point-valued items, answer.rubric = "
                                '[{"points": 1, "text": "..."}, ...], so two graders apply the same items', part="metadata"))
    return warnings


def _option_warnings(variants: list[GeneratedVariant]) -> list[Failure]:
    warnings: list[Failure] = []
    ranks: list[tuple[int, int, int]] = []  # (seed, rank, option count) where every option is a number
    longest: list[int] = []
    close: dict[str, list[int]] = {}
    for variant in variants:
        texts = [option["text"] for option in variant.public.get("options") or []]
        correct = variant.key.get("correct_index")
        if correct is None or len(texts) < 2:
            continue
        lengths = [len(text) for text in texts]
        if all(lengths[correct] > length for i, length in enumerate(lengths) if i != correct):
            longest.append(variant.seed)
        numbers = [_as_number(text) for text in texts]
        if all(number is not None for number in numbers):
            ordered = sorted(set(numbers))
            if len(ordered) == len(numbers):
                ranks.append((variant.seed, ordered.index(numbers[correct]), len(numbers)))
            for i in range(len(texts)):
                for j in range(i + 1, len(texts)):
                    if _display_unit(texts[i]) >= 1 and _display_unit(texts[j]) >= 1:
                        continue  # whole numbers one apart are different answers, not a rounding question
                    unit = min(_display_unit(texts[i]), _display_unit(texts[j]))  # the finer one: '0.1' vs '0.05' is fine
                    if abs(numbers[i] - numbers[j]) <= unit * 1.0001:
                        close.setdefault(f"{texts[i]} and {texts[j]}", []).append(variant.seed)
    if len(ranks) >= MIN_SEEDS_FOR_PATTERNS:
        (rank, count), times = Counter((rank, count) for _, rank, count in ranks).most_common(1)[0]
        if times / len(ranks) >= SAME_RANK_SHARE:
            warnings.append(Failure("same-rank", f"the correct option is {_rank_name(rank, count)} of the {count} "
                                    f"numeric options in {times} of {len(ranks)} seeds: a student can pick it without "
                                    "solving; add misconceptions on both sides of the answer",
                                    tuple(s for s, r, c in ranks if (r, c) == (rank, count))))
    counted = sum(1 for v in variants if v.key.get("correct_index") is not None)
    if counted >= MIN_SEEDS_FOR_PATTERNS and len(longest) == counted:
        warnings.append(Failure("longest-option", f"the correct option is the longest text in all {counted} seeds: a "
                                "student can pick it without solving", tuple(longest)))
    if close:
        pairs = sorted(close.items(), key=lambda item: -len(item[1]))
        seeds_with = tuple(sorted({seed for _, seeds in pairs for seed in seeds}))
        warnings.append(Failure("close-options", f"options differ by no more than their display precision (e.g. "
                                f"{pairs[0][0]}): a student's rounding decides; show more digits "
                                "(answer.option_format) or move the mistakes apart", seeds_with))
    return warnings


# --- answers no student should be asked for ----------------------------------------------------------

_NEGATIVE_ZERO = re.compile(r"(?<![\w.])-0(\.0*)?(?![\d.])")


NON_FINITE_TEXTS = ("nan", "inf", "-inf")


def _answer_problem(variant: GeneratedVariant) -> tuple[str, str] | None:
    """(category, message) for an answer no student should be asked for, or None."""
    answer = variant.key.get("answer")
    if variant.public.get("kind") == "output" and _NEGATIVE_ZERO.search(str(answer)):
        return "ambiguous", "the program prints a negative zero, which students cannot be expected to predict"
    values = answer if isinstance(answer, list) else [answer]
    for value in values:
        if isinstance(value, float) and not math.isfinite(value):
            return "nan", f"the answer is {value!r}"
        # engine.json_safe stores a non-finite number as its text; a printed program's output may say "nan".
        if variant.public.get("kind") != "output" and value in NON_FINITE_TEXTS:
            return "nan", f"the answer is {value}"
    for option in variant.public.get("options") or []:
        if option["text"].lower() in NON_FINITE_TEXTS:
            return "nan", f"an option reads {option['text']!r}"
    return None


def check_before_use(spec: TemplateSpec, seeds: int) -> SelfTestReport:
    """What import and the admin's Save run: every checked seed must pass (warnings are reported, not fatal)."""
    return selftest(spec, seeds, determinism_sample=min(2, seeds), mistake_seeds=min(MISTAKE_SEEDS, seeds))
