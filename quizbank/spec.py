"""A question template's content, independent of where it is stored (database row, notebook file).

`TemplateSpec` is the canonical form: the admin form, the notebook importer and the exporter all produce or
consume it, versions freeze it as JSON, and its content hash decides whether an edit makes a new version.
`check_static` finds every problem that can be found without running the template's code.
"""
from __future__ import annotations

import ast
import hashlib
import json
import re
from dataclasses import asdict, dataclass, field, fields
from typing import Any

import jinja2

KINDS = ("mcq", "short", "output", "completion")
QTYPES = ("mcq", "short", "code")
ANSWER_FORMATS = ("numeric", "integer", "text", "shape", "manual")

# Which syllabus question types (what blueprints count) each answer kind may have.
QTYPES_BY_KIND: dict[str, tuple[str, ...]] = {
    "mcq": ("mcq", "code"),  # an error-identification question answered by picking an option is `code`
    "short": ("short", "code"),  # "which line raises?" answered with a number is `code`
    "output": ("code",),
    "completion": ("code",),
}

PYTHON_PARTS = ("parameters", "solution", "misconceptions", "reference", "tests", "public_tests")
JINJA_PARTS = ("stem", "explanation", "program", "scaffold")
TEXT_PARTS = ("parameters", "solution", "misconceptions", "stem", "program", "scaffold", "reference",
              "tests", "public_tests", "explanation")

REGION_BEGIN = "# >>> your code"
REGION_END = "# <<< your code"
SLUG_RE = re.compile(r"^[a-z0-9][a-z0-9_-]{1,78}[a-z0-9]$")
LIMIT_KEYS = ("cpu_seconds", "wall_seconds", "memory_mb", "processes", "file_size_mb", "open_files", "output_kb")


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a template, located as precisely as we can: the part (cell) and its line."""

    part: str
    message: str
    line: int | None = None

    def __str__(self) -> str:
        where = self.part if self.line is None else f"{self.part}, line {self.line}"
        return f"[{where}] {self.message}"


class TemplateError(Exception):
    """A template that cannot produce a variant. Carries every problem found, each with its place."""

    def __init__(self, problems: list[Problem] | Problem, *, seed: int | None = None, slug: str = ""):
        self.problems = problems if isinstance(problems, list) else [problems]
        self.seed = seed
        self.slug = slug
        super().__init__(self.describe())

    def describe(self) -> str:
        head = self.slug or "template"
        if self.seed is not None:
            head += f" (seed {self.seed})"
        return head + ": " + "; ".join(str(problem) for problem in self.problems)


@dataclass(frozen=True)
class TemplateSpec:
    slug: str
    title: str
    kind: str
    qtype: str
    stem: str
    lectures: tuple[int, ...] = ()
    tags: tuple[str, ...] = ()
    parameters: str = ""
    solution: str = ""
    misconceptions: str = ""
    program: str = ""
    scaffold: str = ""
    reference: str = ""
    tests: str = ""
    public_tests: str = ""
    explanation: str = ""
    answer: dict[str, Any] = field(default_factory=dict)
    limits: dict[str, Any] = field(default_factory=dict)
    notes: str = ""

    # --- serialisation -------------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["lectures"] = list(self.lectures)
        data["tags"] = list(self.tags)
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "TemplateSpec":
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise TemplateError(Problem("metadata", f"unknown field(s): {', '.join(unknown)}"))
        values = dict(data)
        for text_field in TEXT_PARTS + ("slug", "title", "kind", "qtype", "notes"):
            if text_field in values and values[text_field] is None:
                values[text_field] = ""
        values["lectures"] = tuple(int(x) for x in values.get("lectures") or ())
        values["tags"] = tuple(str(x) for x in values.get("tags") or ())
        values["answer"] = dict(values.get("answer") or {})
        values["limits"] = dict(values.get("limits") or {})
        try:
            return cls(**values)
        except TypeError as exc:
            raise TemplateError(Problem("metadata", str(exc))) from exc

    def content_hash(self) -> str:
        canonical = json.dumps(self.to_dict(), sort_keys=True, ensure_ascii=False, separators=(",", ":"))
        return hashlib.sha256(canonical.encode()).hexdigest()

    @property
    def answer_format(self) -> str:
        if self.kind == "short":
            return str(self.answer.get("format", "numeric"))
        return {"mcq": "choice", "output": "output", "completion": "code"}[self.kind]


def check_static(spec: TemplateSpec) -> list[Problem]:
    """Everything that can be wrong with a template before any of its code runs."""
    problems: list[Problem] = []
    if not SLUG_RE.match(spec.slug):
        problems.append(Problem("metadata", f"slug {spec.slug!r} must be 3-80 lowercase letters, digits, - or _"))
    if not spec.title.strip():
        problems.append(Problem("metadata", "title is empty"))
    if spec.kind not in KINDS:
        problems.append(Problem("metadata", f"kind {spec.kind!r} is not one of {', '.join(KINDS)}"))
    elif spec.qtype not in QTYPES_BY_KIND[spec.kind]:
        allowed = " or ".join(QTYPES_BY_KIND[spec.kind])
        problems.append(Problem("metadata", f"a {spec.kind} template must have type {allowed}, not {spec.qtype!r}"))
    if not spec.lectures:
        problems.append(Problem("metadata", "lectures is empty: tag the template with the lecture(s) it covers"))
    elif any(not 1 <= lecture <= 29 for lecture in spec.lectures):
        problems.append(Problem("metadata", "lectures must be numbers of the syllabus outline (1-29)"))
    if not spec.stem.strip():
        problems.append(Problem("stem", "the stem is empty"))
    unknown_limits = sorted(set(spec.limits) - set(LIMIT_KEYS))
    if unknown_limits:
        problems.append(Problem("metadata", f"unknown limit(s) {', '.join(unknown_limits)}; known: {', '.join(LIMIT_KEYS)}"))

    for part in PYTHON_PARTS:
        problems.extend(_python_problems(part, getattr(spec, part)))
    env = jinja2.Environment()
    for part in JINJA_PARTS:
        source = getattr(spec, part)
        if not source:
            continue
        try:
            env.parse(source)
        except jinja2.TemplateSyntaxError as exc:
            problems.append(Problem(part, f"template syntax: {exc.message}", exc.lineno))

    problems.extend(_kind_problems(spec))
    return problems


def _python_problems(part: str, source: str) -> list[Problem]:
    if not source.strip():
        return []
    try:
        ast.parse(source, filename=f"<cell {part}>")
    except SyntaxError as exc:
        return [Problem(part, f"syntax error: {exc.msg}", exc.lineno)]
    return []


def _kind_problems(spec: TemplateSpec) -> list[Problem]:
    problems: list[Problem] = []
    if spec.kind == "mcq":
        if not spec.misconceptions.strip():
            problems.append(Problem("misconceptions", "an MCQ needs a misconceptions cell defining "
                                    "`misconceptions = {name: value}` and/or `distractors = [text, ...]`"))
    elif spec.kind == "short":
        answer_format = spec.answer.get("format", "numeric")
        if answer_format not in ANSWER_FORMATS:
            problems.append(Problem("metadata", f"answer format {answer_format!r} is not one of {', '.join(ANSWER_FORMATS)}"))
        for key in ("rtol", "atol"):
            if key in spec.answer and not _is_nonnegative_number(spec.answer[key]):
                problems.append(Problem("metadata", f"answer {key} must be a non-negative number"))
        if "sigfigs" in spec.answer and not (isinstance(spec.answer["sigfigs"], int) and spec.answer["sigfigs"] >= 1):
            problems.append(Problem("metadata", "answer sigfigs must be a whole number >= 1"))
        if answer_format == "manual":
            if not str(spec.answer.get("rubric", "")).strip():
                problems.append(Problem("metadata", "a manually graded answer needs a rubric (answer.rubric)"))
        elif "answer" not in spec.solution and "answer" not in spec.parameters:
            problems.append(Problem("solution", "the solution must assign `answer`"))
    elif spec.kind == "output":
        if not spec.program.strip():
            problems.append(Problem("program", "a code-output question needs the program whose output is asked for"))
    elif spec.kind == "completion":
        begins = spec.scaffold.count(REGION_BEGIN)
        ends = spec.scaffold.count(REGION_END)
        if begins != 1 or ends != 1:
            problems.append(Problem("scaffold", f"the scaffold must contain exactly one `{REGION_BEGIN}` line and one "
                                    f"`{REGION_END}` line around the region students fill"))
        if not spec.reference.strip():
            problems.append(Problem("reference", "a code-completion question needs a reference solution"))
        if "def test_" not in spec.tests and "def test_" not in spec.public_tests:
            problems.append(Problem("tests", "define at least one test function `def test_...():` returning the value to compare"))
        problems.extend(_solution_names_in_tests(spec))
    return problems


def _solution_names_in_tests(spec: TemplateSpec) -> list[Problem]:
    """Student code is graded without the solution and misconceptions cells (they may hold what students
    must not see), so the tests and the reference may not rely on names only those cells define."""
    try:
        only_there = _bound_names(spec.solution) | _bound_names(spec.misconceptions)
        elsewhere = _bound_names(spec.parameters) | _bound_names(spec.tests) | _bound_names(spec.public_tests)
        elsewhere |= set(re.findall(r"[A-Za-z_]\w*", spec.scaffold))
    except SyntaxError:
        return []  # reported as a syntax error already
    problems = []
    for part in ("tests", "public_tests", "reference"):
        source = getattr(spec, part)
        if not source.strip():
            continue
        try:
            read = {node.id for node in ast.walk(ast.parse(source)) if isinstance(node, ast.Name)}
        except SyntaxError:
            continue
        for name in sorted(read & (only_there - elsewhere)):
            problems.append(Problem(part, f"`{name}` is defined only in the solution cell, which grading does not run; "
                                    "define it in the parameters or the tests"))
        if part == "public_tests":
            hidden_tests = {name for name in _bound_names(spec.tests) if name.startswith("test_")}
            for name in sorted(read & (hidden_tests - _bound_names(spec.public_tests))):
                problems.append(Problem(part, f"a public test calls the hidden test `{name}`, which the public tests' "
                                        "job does not contain; share a helper (a name not starting with test_)"))
    return problems


def _bound_names(source: str) -> set[str]:
    if not source.strip():
        return set()
    names: set[str] = set()
    for node in ast.parse(source).body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            names.update((alias.asname or alias.name).split(".")[0] for alias in node.names)
        else:
            names.update(child.id for child in ast.walk(node) if isinstance(child, ast.Name)
                         and isinstance(child.ctx, ast.Store))
    return names


def _is_nonnegative_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and value >= 0
