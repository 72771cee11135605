"""Grading a code-completion answer: the student's fragment goes into the scaffold, the template's tests run
against it in the sandbox, and each test's *return value* comes back as JSON to be compared here, on the
server, with the value the reference solution produced for the same seed.

Comparing on the server (not with asserts inside the sandbox) means student code cannot fake a pass by
patching the test machinery: the only way to match the reference's values is to compute them.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from runner.api import execute

from quizbank.engine import RUNNER_FAILURES, RunnerUnavailable, build_grading_job
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


def grade_completion(spec: TemplateSpec, seed: int, expected: list[dict[str, Any]], code: str) -> CompletionGrade:
    result = execute(build_grading_job(spec, seed, code))
    total = len(expected)
    if result.status == "refused":
        raise RunnerUnavailable(result.message)
    if result.status in RUNNER_FAILURES:
        reason = {"timeout": "Your code ran longer than the time limit",
                  "memory": "Your code used more memory than allowed",
                  "output_limit": "Your code printed too much output",
                  "killed": "Your code was stopped"}[result.status]
        return _all_failed(expected, f"{reason}; no test could finish.")
    if not result.ok:
        error = result.error
        detail = f"{error.type}: {error.message}" if error else result.message
        return _all_failed(expected, f"The tests could not run: {detail}")
    results = result.exports["__results__"]
    if "load_error" in results:
        return _all_failed(expected, f"Your code did not run: {results['load_error']}")
    by_name = {entry["name"]: entry for entry in results["tests"]}
    rtol = float(spec.answer.get("test_rtol", DEFAULT_TEST_RTOL))
    atol = float(spec.answer.get("test_atol", DEFAULT_TEST_ATOL))
    outcomes = []
    for reference in expected:
        actual = by_name.get(reference["name"])
        if actual is None:
            outcomes.append(TestOutcome(reference["name"], reference["visible"], False, "The test did not run."))
        elif "error" in actual:
            outcomes.append(TestOutcome(reference["name"], reference["visible"], False, actual["error"]))
        else:
            passed, message = compare_values(reference["value"], actual["value"], rtol, atol)
            outcomes.append(TestOutcome(reference["name"], reference["visible"], passed, message))
    passed_count = sum(o.passed for o in outcomes)
    if spec.answer.get("all_or_nothing"):
        score = 1.0 if passed_count == total else 0.0
    else:
        score = passed_count / total if total else 0.0
    return CompletionGrade(score=score, outcomes=outcomes, summary=f"{passed_count} of {total} tests passed.")


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
