"""Grading a code-completion answer: the student's fragment goes into the scaffold, the template's tests run
against it in the sandbox, and each test's *return value* comes back as JSON to be compared here, on the
server, with the value the reference solution produced for the same seed.

Comparing on the server (not with asserts inside the sandbox) means student code cannot fake a pass by
patching the test machinery: the only way to match the reference's values is to compute them.

Visible and hidden tests run as two separate jobs (quizbank.engine.build_visible_job / build_hidden_job):
only the visible job's messages are shown; of the hidden job only its values are used, as a count passed.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from runner.api import execute

from quizbank.engine import RunnerUnavailable, build_hidden_job, build_visible_job
from quizbank.spec import TemplateSpec

DEFAULT_TEST_RTOL = 1e-4
DEFAULT_TEST_ATOL = 1e-6


@dataclass(frozen=True)
class TestOutcome:
    name: str
    visible: bool
    passed: bool
    message: str = ""


@dataclass(frozen=True)
class CompletionGrade:
    score: float
    outcomes: list[TestOutcome] = field(default_factory=list)
    summary: str = ""

    def student_feedback(self) -> dict[str, Any]:
        """Per-test feedback for visible tests only; hidden tests are a count."""
        hidden = [o for o in self.outcomes if not o.visible]
        return {
            "summary": self.summary,
            "visible": [{"name": o.name, "passed": o.passed, "message": o.message} for o in self.outcomes if o.visible],
            "hidden_passed": sum(o.passed for o in hidden),
            "hidden_total": len(hidden),
        }


MESSAGE_LIMIT = 600
RUN_FAILURE_REASONS = {"timeout": "Your code ran longer than the time limit",
                       "memory": "Your code used more memory than allowed",
                       "output_limit": "Your code printed too much output",
                       "killed": "Your code was stopped"}
# The only thing said about a hidden test, whatever happened in its job.
HIDDEN_FAILED = "A hidden test failed."
HIDDEN_DID_NOT_FINISH = "The hidden tests did not finish."


def grade_completion(spec: TemplateSpec, seed: int, expected: list[dict[str, Any]], code: str) -> CompletionGrade:
    """Two runner jobs, one after the other: the visible tests (their messages are feedback), then, unless
    the code already failed to load or to finish, the hidden tests (values only, reduced to pass/fail here)."""
    total = len(expected)
    result = execute(build_visible_job(spec, seed, code))
    if result.status == "refused":
        raise RunnerUnavailable(result.message)
    if result.status in RUN_FAILURE_REASONS:
        return _all_failed(expected, f"{RUN_FAILURE_REASONS[result.status]}; no test could finish.")
    if not result.ok:
        error = result.error
        detail = f"{error.type}: {error.message}" if error else result.message
        return _all_failed(expected, _clip(f"The tests could not run: {detail}"))
    results = result.exports.get("__results__")
    if isinstance(results, dict) and "load_error" in results:
        return _all_failed(expected, _clip(f"Your code did not run: {results['load_error']}"))
    rtol = float(spec.answer.get("test_rtol", DEFAULT_TEST_RTOL))
    atol = float(spec.answer.get("test_atol", DEFAULT_TEST_ATOL))
    visible_entries = _entries(results)
    outcomes: dict[str, TestOutcome] = {}
    for reference in (e for e in expected if e["visible"]):
        outcomes[reference["name"]] = _visible_outcome(reference, visible_entries.get(reference["name"]), rtol, atol)
    hidden = [e for e in expected if not e["visible"]]
    hidden_note = ""
    if hidden:
        hidden_result = execute(build_hidden_job(spec, seed, code))
        if hidden_result.status == "refused":
            raise RunnerUnavailable(hidden_result.message)
        hidden_entries = _entries(hidden_result.exports.get("__results__")) if hidden_result.ok else {}
        if not hidden_entries:
            hidden_note = " " + HIDDEN_DID_NOT_FINISH
        for reference in hidden:
            passed = _hidden_passed(reference, hidden_entries.get(reference["name"]), rtol, atol)
            outcomes[reference["name"]] = TestOutcome(reference["name"], False, passed, "" if passed else HIDDEN_FAILED)
    ordered = [outcomes[e["name"]] for e in expected]
    passed_count = sum(o.passed for o in ordered)
    if spec.answer.get("all_or_nothing"):
        score = 1.0 if passed_count == total else 0.0
    else:
        score = passed_count / total if total else 0.0
    return CompletionGrade(score=score, outcomes=ordered, summary=f"{passed_count} of {total} tests passed.{hidden_note}")


def _entries(results: Any) -> dict[str, dict[str, Any]]:
    """A job's test entries by name; the job ran student code, so its shape is checked, not trusted."""
    if not isinstance(results, dict) or not isinstance(results.get("tests"), list):
        return {}
    entries: dict[str, dict[str, Any]] = {}
    for entry in results["tests"]:
        if isinstance(entry, dict) and isinstance(entry.get("name"), str):
            entries.setdefault(entry["name"], entry)
    return entries


def _visible_outcome(reference: dict[str, Any], actual: dict[str, Any] | None, rtol: float, atol: float) -> TestOutcome:
    name = reference["name"]
    if actual is None or ("error" not in actual and "value" not in actual):
        return TestOutcome(name, True, False, "The test did not run.")
    if "error" in actual:
        return TestOutcome(name, True, False, _clip(str(actual["error"])))
    passed, message = _compare(reference["value"], actual["value"], rtol, atol)
    return TestOutcome(name, True, passed, _clip(message))


def _hidden_passed(reference: dict[str, Any], actual: dict[str, Any] | None, rtol: float, atol: float) -> bool:
    if actual is None or "error" in actual or "value" not in actual:
        return False
    return _compare(reference["value"], actual["value"], rtol, atol)[0]


def _compare(expected: Any, actual: Any, rtol: float, atol: float) -> tuple[bool, str]:
    try:
        return compare_values(expected, actual, rtol, atol)
    except (TypeError, ValueError, KeyError, AttributeError, OverflowError, RecursionError):
        return False, "the test returned a value of the wrong kind"


def _clip(text: str) -> str:
    return text if len(text) <= MESSAGE_LIMIT else text[:MESSAGE_LIMIT - 3] + "..."


def _all_failed(expected: list[dict[str, Any]], message: str) -> CompletionGrade:
    outcomes = [TestOutcome(e["name"], e["visible"], False, message) for e in expected]
    return CompletionGrade(score=0.0, outcomes=outcomes, summary=message)


def compare_values(expected: Any, actual: Any, rtol: float, atol: float, path: str = "") -> tuple[bool, str]:
    """Whether a test's value matches the reference's, and if not, a message a student can act on."""
    label = f" at {path}" if path else ""
    if isinstance(expected, dict) and "__array__" in expected:
        if not (isinstance(actual, dict) and "__array__" in actual):
            return False, f"expected a tensor of shape {tuple(expected['__array__'])}{label}, got {_describe(actual)}"
        if actual["__array__"] != expected["__array__"]:
            return False, (f"expected shape {tuple(expected['__array__'])}{label}, "
                           f"got shape {tuple(actual['__array__'])}")
        for index, (want, got) in enumerate(zip(expected["data"], actual["data"])):
            if not _scalar_close(want, got, rtol, atol):
                return False, f"values differ{label} (first at flat index {index})"
        return True, ""
    if isinstance(expected, bool) or expected is None or isinstance(expected, str):
        if actual == expected and type(actual) is type(expected):
            return True, ""
        return False, f"expected {expected!r}{label}, got {_describe(actual)}"
    if isinstance(expected, (int, float)):
        if isinstance(actual, bool) or not isinstance(actual, (int, float)):
            return False, f"expected a number{label}, got {_describe(actual)}"
        if _scalar_close(expected, actual, rtol, atol):
            return True, ""
        return False, f"the value{label} is not what the reference computes"
    if isinstance(expected, list):
        if not isinstance(actual, list):
            return False, f"expected a list of {len(expected)}{label}, got {_describe(actual)}"
        if len(actual) != len(expected):
            return False, f"expected {len(expected)} items{label}, got {len(actual)}"
        for index, (want, got) in enumerate(zip(expected, actual)):
            ok, message = compare_values(want, got, rtol, atol, f"{path}[{index}]")
            if not ok:
                return ok, message
        return True, ""
    if isinstance(expected, dict):
        if not isinstance(actual, dict) or set(actual) != set(expected):
            return False, f"expected a dict with keys {sorted(expected)}{label}, got {_describe(actual)}"
        for name in expected:
            ok, message = compare_values(expected[name], actual[name], rtol, atol, f"{path}[{name!r}]")
            if not ok:
                return ok, message
        return True, ""
    return False, f"cannot compare {type(expected).__name__}"


def _scalar_close(want: Any, got: Any, rtol: float, atol: float) -> bool:
    if isinstance(want, bool) or isinstance(got, bool):
        return want == got
    if not isinstance(got, (int, float)):
        return False
    if isinstance(want, float) and math.isnan(want):
        return isinstance(got, float) and math.isnan(got)
    if isinstance(want, float) and math.isinf(want):
        return got == want
    return abs(float(got) - float(want)) <= atol + rtol * abs(float(want))


def _describe(value: Any) -> str:
    if isinstance(value, dict) and "__array__" in value:
        return f"a tensor of shape {tuple(value['__array__'])}"
    if isinstance(value, list):
        return f"a list of {len(value)}"
    if isinstance(value, dict):
        return "a dict"
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."
