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
import textwrap
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
JINJA_PARTS = ("stem", "explanation", "model_answer", "program", "scaffold")
TEXT_PARTS = ("parameters", "solution", "misconceptions", "stem", "program", "scaffold", "reference",
              "tests", "public_tests", "explanation", "model_answer")
CODE_PARTS = (*PYTHON_PARTS, "program", "scaffold")
# Optional list fields left out of `to_dict` when empty, so adding them changed no existing content hash.
LIST_FIELDS = ("mistakes", "alternatives")
# Optional text parts added after the first edition, left out of `to_dict` when empty for the same reason.
OPTIONAL_TEXT_FIELDS = ("model_answer",)

REGION_BEGIN = "# >>> your code"
REGION_END = "# <<< your code"
SLUG_RE = re.compile(r"^[a-z0-9][a-z0-9_-]{1,78}[a-z0-9]$")
# Calls whose value differs from run to run whatever the seed: a template using them cannot be reproduced.
NONDETERMINISTIC_CALL = re.compile(
    r"\b(time\.(time|time_ns|perf_counter|perf_counter_ns|monotonic|monotonic_ns|process_time)"
    r"|os\.(urandom|getrandom|getpid)|uuid\.uuid[14]|(datetime|date)\.(now|today|utcnow)"
    r"|secrets\.\w+|SystemRandom)\s*\(|\b(default_rng|random\.Random)\(\s*\)")
# Deterministic in most uses (set membership) but not in others (ordering, printing): a warning only.
RISKY_CALL = re.compile(r"(?<![\w.])(id|hash)\s*\(")
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
    # Manual answers: the model answer for this variant (Markdown + Jinja2), shown to graders beside each
    # response and to the student after answers are released; the rubric stays with the graders.
    model_answer: str = ""
    answer: dict[str, Any] = field(default_factory=dict)
    limits: dict[str, Any] = field(default_factory=dict)
    notes: str = ""
    # Code completion: typical wrong fragments, each {"name", "code", "max_score"} (the highest score the
    # grading may give it), and other correct fragments, which must score full marks.
    mistakes: tuple[dict[str, Any], ...] = ()
    alternatives: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        # One text, one form: a browser's CRLF or a lost final newline must not make a new version.
        for name in TEXT_PARTS + ("notes",):
            value = getattr(self, name)
            if isinstance(value, str):
                object.__setattr__(self, name, normalise_text(value, code=name in CODE_PARTS))
        object.__setattr__(self, "alternatives", tuple(normalise_text(str(a), code=True) for a in self.alternatives))
        object.__setattr__(self, "mistakes", tuple(
            {**m, "code": normalise_text(str(m.get("code", "")), code=True)} if isinstance(m, dict) else m
            for m in self.mistakes))

    # --- serialisation -------------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["lectures"] = list(self.lectures)
        data["tags"] = list(self.tags)
        for name in LIST_FIELDS:
            data[name] = [dict(item) if isinstance(item, dict) else item for item in getattr(self, name)]
            if not data[name]:
                del data[name]
        for name in OPTIONAL_TEXT_FIELDS:
            if not data[name]:
                del data[name]
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
        for name in LIST_FIELDS:
            items = values.get(name) or ()
            if not isinstance(items, (list, tuple)):
                raise TemplateError(Problem(name, f"{name} must be a list"))
            values[name] = tuple(dict(item) if isinstance(item, dict) else item for item in items)
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


def normalise_text(text: str, *, code: bool) -> str:
    """LF line ends everywhere; code ends with exactly one newline (text parts keep their own ending)."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    if code:
        return text.rstrip() + "\n" if text.strip() else ""
    return text


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
    problems.extend(_mistake_problems(spec))
    problems.extend(nondeterminism_problems(spec))
    return problems


def _code_texts(spec: TemplateSpec) -> list[tuple[str, str]]:
    texts = [(part, getattr(spec, part)) for part in CODE_PARTS]
    texts += [(f"mistake {m.get('name', index + 1)!r}", str(m.get("code", "")))
              for index, m in enumerate(spec.mistakes) if isinstance(m, dict)]
    texts += [(f"alternative {index + 1}", code) for index, code in enumerate(spec.alternatives)]
    return texts


def _matching_lines(pattern: re.Pattern[str], spec: TemplateSpec) -> list[tuple[str, int, str]]:
    found = []
    for part, source in _code_texts(spec):
        for number, line in enumerate(source.split("\n"), start=1):
            match = pattern.search(line.split("#", 1)[0])
            if match:
                found.append((part, number, re.sub(r"\s*\(\s*\)?$", "", match.group(0))))
    return found


def nondeterminism_problems(spec: TemplateSpec) -> list[Problem]:
    """Calls that give a different value on every run, whatever the seed (the self-test's re-runs would
    catch them only by luck)."""
    return [Problem(part, f"nondeterministic: `{call}(...)` differs from run to run; draw from `rng`, `np_rng` or "
                    "torch instead", line) for part, line, call in _matching_lines(NONDETERMINISTIC_CALL, spec)]


def nondeterminism_risks(spec: TemplateSpec) -> list[Problem]:
    """`id()` and `hash()` of strings change between runs: fine for set membership, not for order or output."""
    return [Problem(part, f"`{call}(...)` differs between runs; make sure nothing shown or compared depends on it",
                    line) for part, line, call in _matching_lines(RISKY_CALL, spec)]


def _mistake_problems(spec: TemplateSpec) -> list[Problem]:
    problems: list[Problem] = []
    if (spec.mistakes or spec.alternatives) and spec.kind != "completion":
        problems.append(Problem("mistakes", "mistakes and alternative solutions belong to code-completion templates; "
                                "an MCQ's mistakes are its misconceptions"))
    names: set[str] = set()
    for index, mistake in enumerate(spec.mistakes, start=1):
        where = f"mistake {index}"
        if not isinstance(mistake, dict):
            problems.append(Problem("mistakes", f"{where} must be an object {{name, code, max_score}}"))
            continue
        unknown = sorted(set(mistake) - {"name", "code", "max_score"})
        if unknown:
            problems.append(Problem("mistakes", f"{where}: unknown field(s) {', '.join(unknown)}"))
        name = mistake.get("name")
        if not isinstance(name, str) or not name.strip():
            problems.append(Problem("mistakes", f"{where} needs a name (what the student got wrong)"))
        elif name in names:
            problems.append(Problem("mistakes", f"two mistakes are named {name!r}"))
        else:
            names.add(name)
            where = f"mistake {name!r}"
        cap = mistake.get("max_score")
        if not (_is_nonnegative_number(cap) and cap < 1):
            problems.append(Problem("mistakes", f"{where}: max_score must be a number from 0 to below 1 "
                                    "(the highest score the mistake may earn)"))
        if not str(mistake.get("code", "")).strip():
            problems.append(Problem("mistakes", f"{where} has no code"))
        else:
            problems.extend(_python_problems(where, str(mistake["code"]), dedent=True))
    for index, code in enumerate(spec.alternatives, start=1):
        if not code.strip():
            problems.append(Problem("alternatives", f"alternative {index} is empty"))
        else:
            problems.extend(_python_problems(f"alternative {index}", code, dedent=True))
    return problems


def _python_problems(part: str, source: str, *, dedent: bool = False) -> list[Problem]:
    if not source.strip():
        return []
    if dedent:  # a fragment for the scaffold's region: it may be indented, and `return` is fine there
        source = "def _region():\n" + textwrap.indent(textwrap.dedent(source), "    ")
    try:
        ast.parse(source, filename=f"<cell {part}>")
    except SyntaxError as exc:
        line = exc.lineno - 1 if dedent and exc.lineno else exc.lineno
        return [Problem(part, f"syntax error: {exc.msg}", line)]
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
            problems.extend(_rubric_problems(spec.answer.get("rubric", "")))
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


def _rubric_problems(rubric: Any) -> list[Problem]:
    """A manual answer's rubric: text (one item per line) or a list of point-valued items."""
    if isinstance(rubric, list):
        if not rubric:
            return [Problem("metadata", "a manually graded answer needs a rubric (answer.rubric)")]
        for number, item in enumerate(rubric, start=1):
            if not (isinstance(item, dict) and isinstance(item.get("text"), str) and item["text"].strip()
                    and isinstance(item.get("points"), (int, float)) and not isinstance(item.get("points"), bool)):
                return [Problem("metadata", f"rubric item {number} must be {{\"points\": number, \"text\": \"what earns them\"}}")]
        if not any(item["points"] > 0 for item in rubric):
            return [Problem("metadata", "the rubric needs at least one item worth positive points")]
        return []
    if not str(rubric or "").strip():
        return [Problem("metadata", "a manually graded answer needs a rubric (answer.rubric)")]
    return []


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
