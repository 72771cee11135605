"""From (template spec, seed) to a variant, by running the template's code through the runner.

One runner job per variant: the sandbox prelude seeds every generator from the seed, the author's cells run
in order, and the engine's own cells render the stem and collect the answer key. Options are shuffled here,
on the server, from the seed, so the same (version, seed) always gives the same variant.
"""
from __future__ import annotations

import ast
import json
import math
import os
import random
import textwrap
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from django.conf import settings

from runner.api import Cell, Job, JobError, JobResult, Limits, execute

from quizbank.rendering import highlight_python, render_markdown
from quizbank.spec import REGION_BEGIN, REGION_END, Problem, TemplateError, TemplateSpec, check_static

# Template code is small: these defaults keep a broken template from stalling a self-test of 50 seeds.
TEMPLATE_LIMITS = Limits(cpu_seconds=5.0, wall_seconds=10.0, memory_mb=1024)
RUNNER_FAILURES = {"timeout": "timed out", "memory": "ran out of memory", "output_limit": "printed too much",
                   "killed": "was killed"}


def runner_width() -> int:
    """How many jobs the runner pool of this process runs at once."""
    return settings.RUNNER_POOL_SIZE or os.cpu_count() or 1


class RunnerUnavailable(RuntimeError):
    """The runner refused the job (no sandbox): a machine problem, not a template problem."""


@dataclass(frozen=True)
class GeneratedVariant:
    seed: int
    public: dict[str, Any]
    key: dict[str, Any]
    wall_ms: float

    def fingerprint(self) -> str:
        """Everything about the variant, option order included: what determinism must reproduce exactly."""
        return json.dumps([self.public, self.key], sort_keys=True, default=str)

    def question_fingerprint(self) -> str:
        """What makes two variants a different question for a student: stem, shown code, the set of options
        and the answer, but not the order the options were shuffled into."""
        options = sorted(option["text"] for option in self.public.get("options") or [])
        shown = [self.public.get(part, "") for part in ("stem_md", "program", "scaffold")]
        return json.dumps([shown, options, self.key.get("answer")], sort_keys=True, default=str)


@lru_cache(maxsize=1)
def prelude_source() -> str:
    return (Path(__file__).with_name("sandbox_prelude.py")).read_text()


def template_limits(spec: TemplateSpec) -> Limits:
    return TEMPLATE_LIMITS.merged(spec.limits)


def _spec_inputs(spec: TemplateSpec) -> dict[str, Any]:
    return {
        "kind": spec.kind,
        "answer": spec.answer,
        "stem": spec.stem,
        "explanation": spec.explanation,
        "model_answer": spec.model_answer,
        "program": spec.program,
        "scaffold": spec.scaffold,
    }


def _author_cells(spec: TemplateSpec, *parts: str) -> list[Cell]:
    return [Cell(part, getattr(spec, part)) for part in parts if getattr(spec, part).strip()]


def visible_test_names(spec: TemplateSpec) -> list[str]:
    if not spec.public_tests.strip():
        return []
    tree = ast.parse(spec.public_tests)
    return [node.name for node in tree.body if isinstance(node, ast.FunctionDef) and node.name.startswith("test_")]


RENDER_CELL = Cell(
    "render",
    'program = _qb_render("program", __spec__["program"], globals())\n'
    'scaffold = _qb_render("scaffold", __spec__["scaffold"], globals())\n',
)
COLLECT_CELL = Cell("collect", "__variant__ = _qb_collect(globals(), __spec__)\n")


def _fill_cell(name: str, fragment_variable: str, filename: str) -> Cell:
    """Fill the scaffold's region with a fragment and run it; a failure is recorded, not raised, so the
    tests still report one by one."""
    return Cell(name, f"""
_qb_program, _qb_region_start, _qb_region_length = _qb_fill(scaffold, {fragment_variable}, {REGION_BEGIN!r}, {REGION_END!r})
_qb_load_error = None
try:
    exec(compile(_qb_program, {filename!r}, "exec"), globals())
except BaseException as _qb_exc:
    if isinstance(_qb_exc, SyntaxError) and _qb_exc.filename == {filename!r} and _qb_exc.lineno:
        _qb_line = _qb_exc.lineno - _qb_region_start + 1
        _qb_load_error = f"SyntaxError: {{_qb_exc.msg}} (line {{_qb_line}} of {{_qb_fragment_label({filename!r})}})"
    else:
        _qb_load_error = _qb_describe_error(_qb_exc, _qb_region_start, _qb_region_length, {filename!r})
""")


def build_variant_job(spec: TemplateSpec, seed: int) -> Job:
    cells = [Cell("prelude", prelude_source()), *_author_cells(spec, "parameters"), RENDER_CELL,
             *_author_cells(spec, "solution", "misconceptions")]
    if spec.kind == "completion":
        cells += [_fill_cell("reference-run", "__reference__", "<reference>"),
                  *_author_cells(spec, "tests", "public_tests"),
                  Cell("reference-tests", """
if _qb_load_error:
    raise QuizbankPartError("reference", "the reference solution fails to run: " + _qb_load_error)
__expected__ = _qb_run_tests(globals(), __visible__, _qb_region_start, _qb_region_length, "<reference>")
for _qb_result in __expected__:
    if "error" in _qb_result:
        raise QuizbankPartError("reference", f"the reference solution fails its own test {_qb_result['name']}: {_qb_result['error']}")
_qb_reference_region = __reference__
""")]
    cells.append(COLLECT_CELL)
    inputs: dict[str, Any] = {"__seed__": seed, "__spec__": _spec_inputs(spec)}
    exports = ["__variant__"]
    if spec.kind == "completion":
        inputs["__reference__"] = spec.reference
        inputs["__visible__"] = visible_test_names(spec)
        exports.append("__expected__")
    return Job(cells=tuple(cells), inputs=inputs, exports=tuple(exports), limits=template_limits(spec), trusted=True)


def problems_from_result(result: JobResult) -> list[Problem]:
    if result.status == "refused":
        raise RunnerUnavailable(result.message or "the runner refused the job")
    if result.status in RUNNER_FAILURES:
        detail = result.message or RUNNER_FAILURES[result.status]
        return [Problem("runtime", f"the template {RUNNER_FAILURES[result.status]} ({detail})")]
    error = result.error
    if error is None:
        return [Problem("runtime", result.message or f"runner status {result.status}")]
    if error.type == "QuizbankPartError":
        try:
            located = json.loads(error.message)
            return [Problem(located["part"], located["message"], located.get("line"))]
        except (ValueError, KeyError):
            pass
    part = error.cell or "runtime"
    if part in {"prelude", "render", "collect"}:
        part = "engine"
    return [Problem(part, f"{error.type}: {error.message}", error.line)]


def generate(spec: TemplateSpec, seed: int, *, check: bool = True) -> GeneratedVariant:
    """Run the template for one seed. Raises TemplateError naming the part and line that broke."""
    if check:
        problems = check_static(spec)
        if problems:
            raise TemplateError(problems, seed=seed, slug=spec.slug)
    result = execute(build_variant_job(spec, seed))
    if not result.ok:
        raise TemplateError(problems_from_result(result), seed=seed, slug=spec.slug)
    return _variant_from(spec, seed, result)


def option_order(seed: int, count: int) -> list[int]:
    order = list(range(count))
    random.Random(f"options:{seed}").shuffle(order)
    return order


def _public_part(spec: TemplateSpec, raw: dict[str, Any], seed: int) -> dict[str, Any]:
    public: dict[str, Any] = {
        "kind": spec.kind,
        "qtype": spec.qtype,
        "answer_format": spec.answer_format,
        "title": spec.title,
        "stem_md": raw["stem"],
        "stem_html": render_markdown(raw["stem"]),
        "program": raw["program"],
        "program_html": highlight_python(raw["program"]),
    }
    if spec.kind == "mcq":
        options = raw["options"]
        public["options"] = [
            {"text": options[i]["text"], "html": render_markdown(options[i]["text"])}
            for i in option_order(seed, len(options))
        ]
    if spec.kind == "completion":
        public["scaffold"] = raw["scaffold"]
        public["scaffold_html"] = highlight_python(raw["scaffold"])
        public["starter"] = _region_text(raw["scaffold"])
        public["visible_tests"] = visible_test_names(spec)
    if spec.kind == "short" and spec.answer.get("format") == "manual":
        public["max_words"] = spec.answer.get("max_words")
    return public


def _key_part(spec: TemplateSpec, raw: dict[str, Any], result: JobResult, seed: int) -> dict[str, Any]:
    key: dict[str, Any] = {
        "answer": raw["answer"],
        "explanation_md": raw["explanation"],
        "explanation_html": render_markdown(raw["explanation"]),
        "params": raw["params"],
    }
    if spec.kind == "mcq":
        options = raw["options"]
        order = option_order(seed, len(options))
        key["correct_index"] = order.index(0)
        key["option_sources"] = [options[i]["source"] for i in order]
    if spec.kind == "short" and spec.answer.get("format") == "manual":
        key["rubric"] = spec.answer.get("rubric", "")
        key["model_answer_md"] = raw.get("model_answer", "")
        key["model_answer_html"] = render_markdown(raw.get("model_answer", ""))
    if raw.get("misconception_values"):  # named mistakes of a non-MCQ template (item analysis, feedback)
        key["misconception_values"] = raw["misconception_values"]
    if spec.kind == "completion":
        key["expected_tests"] = result.exports["__expected__"]
        key["reference"] = spec.reference
        key["reference_html"] = highlight_python(spec.reference)
    return key


def _region_text(scaffold: str) -> str:
    lines = scaffold.split("\n")
    start = next(i for i, line in enumerate(lines) if line.strip() == REGION_BEGIN)
    stop = next(i for i, line in enumerate(lines) if line.strip() == REGION_END)
    return textwrap.dedent("\n".join(lines[start + 1:stop]))


# Grading runs student code, so it is split in two jobs, and neither holds anything the student may not see
# through the job's own output: job V (visible tests) reports messages, so it gets no hidden test, no
# explanation, no key; job H (hidden tests) necessarily holds the hidden tests' source, so nothing comes
# back from it but each test's return value and a bare error marker, compared and counted on the server.
# Neither gets the solution cell, the reference or the stem/explanation sources.
GRADING_RENDER_CELL = Cell("render", 'scaffold = _qb_render("scaffold", __spec__["scaffold"], globals())\n')


def _grading_inputs(spec: TemplateSpec, seed: int, code: str) -> dict[str, Any]:
    return {"__seed__": seed, "__spec__": {"kind": spec.kind, "scaffold": spec.scaffold}, "__answer__": code}


def _grading_cells(spec: TemplateSpec) -> list[Cell]:
    return [Cell("prelude", prelude_source()), *_author_cells(spec, "parameters"), GRADING_RENDER_CELL,
            _fill_cell("answer", "__answer__", "<answer>")]


def hidden_test_names(spec: TemplateSpec) -> list[str]:
    if not spec.tests.strip():
        return []
    visible = set(visible_test_names(spec))
    tree = ast.parse(spec.tests)
    return [node.name for node in tree.body if isinstance(node, ast.FunctionDef) and node.name.startswith("test_")
            and node.name not in visible]


def _statement_names(node: ast.stmt) -> tuple[set[str], set[str]]:
    """(names a top-level statement binds, names it reads)."""
    bound: set[str] = set()
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        bound.add(node.name)
    elif isinstance(node, (ast.Import, ast.ImportFrom)):
        bound.update((alias.asname or alias.name).split(".")[0] for alias in node.names)
    else:
        for child in ast.walk(node):
            if isinstance(child, ast.Name) and isinstance(child.ctx, ast.Store):
                bound.add(child.id)
    read = {child.id for child in ast.walk(node) if isinstance(child, ast.Name) and isinstance(child.ctx, ast.Load)}
    return bound, read


def visible_test_helpers(spec: TemplateSpec) -> str:
    """The statements of the hidden-tests cell that the visible tests need (helpers such as `_params()`, and
    what those use), without any `test_*` function: public tests may share a hidden cell's helpers."""
    if not spec.tests.strip() or not spec.public_tests.strip():
        return ""
    statements = [node for node in ast.parse(spec.tests).body
                  if not (isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name.startswith("test_"))]
    names = [_statement_names(node) for node in statements]
    needed = {child.id for child in ast.walk(ast.parse(spec.public_tests)) if isinstance(child, ast.Name)}
    chosen: set[int] = set()
    grew = True
    while grew:
        grew = False
        for index, (bound, read) in enumerate(names):
            if index not in chosen and bound & needed:
                chosen.add(index)
                needed |= read
                grew = True
    lines = spec.tests.split("\n")
    parts = []
    for index in sorted(chosen):
        node = statements[index]
        first = min([node.lineno, *(d.lineno for d in getattr(node, "decorator_list", []))])
        parts.append("\n".join(lines[first - 1:node.end_lineno]))
    return "\n\n".join(parts) + "\n" if parts else ""


def build_visible_job(spec: TemplateSpec, seed: int, code: str) -> Job:
    """Job V: student code and the public tests (with the helpers they use); its messages reach the student."""
    cells = _grading_cells(spec)
    helpers = visible_test_helpers(spec)
    if helpers:
        cells.append(Cell("test-helpers", helpers))
    cells += [*_author_cells(spec, "public_tests"), Cell("grade", """
if _qb_load_error:
    __results__ = {"load_error": _qb_load_error}
else:
    __results__ = {"tests": _qb_run_tests(globals(), __visible__, _qb_region_start, _qb_region_length, "<answer>")}
""")]
    inputs = {**_grading_inputs(spec, seed, code), "__visible__": visible_test_names(spec)}
    return Job(cells=tuple(cells), inputs=inputs, exports=("__results__",), limits=template_limits(spec),
               trusted=False)


def build_hidden_job(spec: TemplateSpec, seed: int, code: str) -> Job:
    """Job H: student code and the hidden tests. It returns values and bare error markers only: any text
    from it could carry what the student's code read there."""
    cells = [*_grading_cells(spec), *_author_cells(spec, "tests", "public_tests"), Cell("grade", """
if _qb_load_error:
    __results__ = {"load_error": True}
else:
    __results__ = {"tests": _qb_test_values(globals(), __hidden__)}
""")]
    inputs = {**_grading_inputs(spec, seed, code), "__hidden__": hidden_test_names(spec)}
    return Job(cells=tuple(cells), inputs=inputs, exports=("__results__",), limits=template_limits(spec),
               trusted=False)


# --- many seeds per job (pre-generation, pre-flight) ----------------------------------------------------
# One job per variant leaves most of a variant's cost in the job itself (fork, prelude compile, teardown);
# a batch job compiles the cells once and runs them for each seed in a fresh namespace (sandbox_batch.py).
BATCH_SIZE = 100  # 1-10 ms a seed: a batch takes well under a second, far inside BATCH_LIMITS
BATCH_LIMITS = Limits(cpu_seconds=60.0, wall_seconds=90.0)


@lru_cache(maxsize=1)
def batch_source() -> str:
    return (Path(__file__).with_name("sandbox_batch.py")).read_text()


def build_batch_job(spec: TemplateSpec, seeds: list[int]) -> Job:
    """One job that runs `build_variant_job(spec, seed)`'s cells for every seed, each in a fresh namespace."""
    single = build_variant_job(spec, seeds[0])
    per_seed = template_limits(spec)
    inputs = {key: value for key, value in single.inputs.items() if key != "__seed__"}
    limits = Limits(cpu_seconds=BATCH_LIMITS.cpu_seconds, wall_seconds=BATCH_LIMITS.wall_seconds,
                    memory_mb=per_seed.memory_mb, processes=per_seed.processes, file_size_mb=per_seed.file_size_mb,
                    open_files=per_seed.open_files, output_kb=per_seed.output_kb * len(seeds))
    return Job(cells=(Cell("batch", batch_source()),),
               inputs={"__batch_cells__": [{"name": c.name, "source": c.source} for c in single.cells],
                       "__batch_inputs__": inputs, "__batch_exports__": list(single.exports),
                       "__batch_seeds__": list(seeds),
                       "__batch_seed_seconds__": min(per_seed.cpu_seconds, per_seed.wall_seconds)},
               exports=("__batch__",), limits=limits, trusted=True)


def _variant_from(spec: TemplateSpec, seed: int, result: JobResult) -> GeneratedVariant:
    raw = result.exports["__variant__"]
    return GeneratedVariant(seed=seed, public=json_safe(_public_part(spec, raw, seed)),
                            key=json_safe(_key_part(spec, raw, result, seed)), wall_ms=result.wall_ms)


def json_safe(value: Any) -> Any:
    """The variant as strict JSON: a parameter may be NaN or infinite (a diverging loss curve a question shows),
    which PostgreSQL's jsonb refuses; it is kept as the text Python prints for it ("nan", "inf", "-inf")."""
    if isinstance(value, float):
        return value if math.isfinite(value) else repr(value)
    if isinstance(value, dict):
        return {k: json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_safe(v) for v in value]
    return value


def _generate_or_error(spec: TemplateSpec, seed: int) -> GeneratedVariant | TemplateError:
    try:
        return generate(spec, seed, check=False)
    except TemplateError as error:
        return error


def _run_batch(spec: TemplateSpec, seeds: list[int]) -> list[GeneratedVariant | TemplateError]:
    result = execute(build_batch_job(spec, seeds))
    if result.status == "refused":
        raise RunnerUnavailable(result.message or "the runner refused the job")
    if not result.ok:  # the batch as a whole broke a limit: each seed alone, as generate() would report it
        return [_generate_or_error(spec, seed) for seed in seeds]
    outcomes: list[GeneratedVariant | TemplateError] = []
    for seed, entry in zip(seeds, result.exports["__batch__"]):
        if "rerun" in entry:
            outcomes.append(_generate_or_error(spec, seed))
        elif "error" in entry:
            error = JobError(traceback="", **entry["error"])
            problems = problems_from_result(JobResult(status="error", error=error))
            outcomes.append(TemplateError(problems, seed=seed, slug=spec.slug))
        else:
            outcomes.append(_variant_from(spec, seed, JobResult(status="ok", exports=entry["exports"],
                                                                wall_ms=float(entry["wall_ms"]))))
    return outcomes


def seed_batches(seeds: list[int], size: int = BATCH_SIZE) -> list[list[int]]:
    return [seeds[start:start + size] for start in range(0, len(seeds), size)]


def generate_many(spec: TemplateSpec, seeds: list[int], *, check: bool = True,
                  batch_size: int = BATCH_SIZE) -> list[GeneratedVariant | TemplateError]:
    """`generate(spec, seed)` for every seed, in order, `batch_size` seeds per runner job; a seed that fails
    is its TemplateError in the list (the others are unaffected). Blocking, one job at a time: run several
    calls in threads to keep every sandbox busy. Raises RunnerUnavailable if the runner refuses."""
    seeds = list(seeds)
    if check:
        problems = check_static(spec)
        if problems:
            return [TemplateError(problems, seed=seed, slug=spec.slug) for seed in seeds]
    outcomes: list[GeneratedVariant | TemplateError] = []
    for chunk in seed_batches(seeds, batch_size):
        outcomes.extend(_run_batch(spec, chunk))
    return outcomes
