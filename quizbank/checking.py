"""Checking a student's response against a variant's answer key, per answer kind.

Every checker returns a `CheckResult`; none raises on bad input. A response that cannot be read is
`valid=False` with a message saying what was expected: never a crash, never a silent zero.
Code completion is graded by running the student's code (see quizbank.completion); manual answers wait for
a grader.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from fractions import Fraction
from typing import Any

DEFAULT_RTOL = 0.01
DEFAULT_ATOL = 1e-8
MAX_RESPONSE_CHARS = 20_000


@dataclass(frozen=True)
class CheckResult:
    score: float | None  # in [0, 1]; None while it waits for a person or the runner
    valid: bool
    feedback: str = ""
    pending: str = ""  # "manual" or "runner" when the score is not known yet

    @classmethod
    def invalid(cls, message: str) -> "CheckResult":
        return cls(score=None, valid=False, feedback=message)


@dataclass(frozen=True)
class FormatVerdict:
    """Whether an answer can be read, decided WITHOUT the answer key (autosave shows it while answering, so it
    must say nothing about correctness). `message` is the same text grading gives an unreadable answer."""

    valid: bool
    message: str = ""
    empty: bool = False


def format_verdict(public: dict[str, Any], answer_config: dict[str, Any], response: Any) -> FormatVerdict:
    """Can this answer be read? Uses only the public variant and the answer format, never the key."""
    if response is None or (isinstance(response, str) and not response.strip()):
        return FormatVerdict(valid=True, empty=True)
    text = str(response)
    if len(text) > MAX_RESPONSE_CHARS:
        return FormatVerdict(False, f"The answer is longer than {MAX_RESPONSE_CHARS} characters.")
    kind = public.get("kind")
    if kind == "mcq":
        _, error = parse_choice(text, len(public.get("options") or []))
        return FormatVerdict(not error, error)
    if kind in ("output", "completion", "unavailable"):
        return FormatVerdict(True)
    answer_format = answer_config.get("format", "numeric")
    if answer_format == "numeric":
        _, error = parse_number(text)
    elif answer_format == "integer":
        _, error = parse_integer(text)
    elif answer_format == "shape":
        _, error = parse_shape(text)
    else:
        error = ""
    return FormatVerdict(not error, error)


def check(public: dict[str, Any], key: dict[str, Any], answer_config: dict[str, Any], response: Any) -> CheckResult:
    kind = public["kind"]
    verdict = format_verdict(public, answer_config, response)
    if verdict.empty:
        return CheckResult(score=0.0, valid=True, feedback="No answer.")
    if not verdict.valid:
        return CheckResult.invalid(verdict.message)
    text = str(response)
    if kind == "mcq":
        return check_choice(text, key["correct_index"], len(public["options"]))
    if kind == "output":
        return check_output(text, key["answer"])
    if kind == "completion":
        return CheckResult(score=None, valid=True, feedback="Your code is being tested.", pending="runner")
    answer_format = answer_config.get("format", "numeric")
    if answer_format == "manual":
        return CheckResult(score=None, valid=True, feedback="Graded by your instructor.", pending="manual")
    if answer_format == "numeric":
        return check_numeric(text, float(key["answer"]), answer_config)
    if answer_format == "integer":
        return check_integer(text, int(key["answer"]))
    if answer_format == "shape":
        return check_shape(text, [int(x) for x in key["answer"]])
    if answer_format == "text":
        return check_text(text, key["answer"], answer_config)
    return CheckResult.invalid(f"This question has an unknown answer format {answer_format!r}.")


def parse_choice(text: str, option_count: int) -> tuple[int | None, str]:
    cleaned = text.strip()
    if not cleaned.isascii() or not cleaned.isdigit() or len(cleaned) > 3 or not 0 <= int(cleaned) < option_count:
        return None, "Choose one of the options."
    return int(cleaned), ""


def check_choice(text: str, correct_index: int, option_count: int) -> CheckResult:
    chosen, error = parse_choice(text, option_count)
    if chosen is None:
        return CheckResult.invalid(error)
    return CheckResult(score=1.0 if chosen == correct_index else 0.0, valid=True)


# --- numbers -----------------------------------------------------------------------------------------

_NUMBER_RE = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")
_FRACTION_RE = re.compile(r"^[+-]?\d+\s*/\s*\d+$")
_TIMES_TEN_RE = re.compile(r"^([+-]?(?:\d+(?:\.\d*)?|\.\d+))\s*(?:[x×*]|\\times)\s*10\s*\^\s*\{?([+-]?\d+)\}?$")


def parse_number(text: str) -> tuple[float | None, str]:
    """A number as students write it: 0.25, -3, 1e-3, 2.5 × 10^-3, 3/4. Returns (value, error message)."""
    cleaned = text.strip().replace("−", "-").replace(" ", "") if text else ""
    cleaned = cleaned.rstrip(".") if cleaned.count(".") > 1 else cleaned
    if not cleaned:
        return None, "Enter a number."
    if re.fullmatch(r"[+-]?\d+,\d+", cleaned):
        return None, f"'{text.strip()}' uses a decimal comma; write it with a decimal point, e.g. {cleaned.replace(',', '.')}."
    if _NUMBER_RE.match(cleaned):
        value = float(cleaned)
    elif _FRACTION_RE.match(cleaned):
        numerator, denominator = cleaned.split("/")
        if int(denominator) == 0:
            return None, "Division by zero is not a number."
        value = float(Fraction(int(numerator), int(denominator)))
    elif match := _TIMES_TEN_RE.match(cleaned):
        value = float(match.group(1)) * 10.0 ** int(match.group(2))
    else:
        return None, f"'{text.strip()[:40]}' is not a number. Write e.g. 0.25, -3, 1.5e-3 or 3/4."
    if not math.isfinite(value):
        return None, "Enter a finite number."
    return value, ""


def round_sigfigs(value: float, sigfigs: int) -> float:
    if value == 0:
        return 0.0
    return float(f"{value:.{sigfigs - 1}e}")


def numeric_matches(submitted: float, correct: float, answer_config: dict[str, Any]) -> bool:
    if "sigfigs" in answer_config:
        digits = int(answer_config["sigfigs"])
        # PrairieLearn-style: the submission must agree with the true value to `digits` significant figures.
        if correct == 0:
            return abs(submitted) < 10.0 ** (-digits)
        scale = 10.0 ** (math.floor(math.log10(abs(correct))) - digits + 1)
        return abs(submitted - correct) <= 0.5 * scale * (1 + 1e-9)
    rtol = float(answer_config.get("rtol", DEFAULT_RTOL))
    atol = float(answer_config.get("atol", DEFAULT_ATOL))
    return abs(submitted - correct) <= atol + rtol * abs(correct)


def check_numeric(text: str, correct: float, answer_config: dict[str, Any]) -> CheckResult:
    value, error = parse_number(text)
    if value is None:
        return CheckResult.invalid(error)
    if numeric_matches(value, correct, answer_config):
        return CheckResult(score=1.0, valid=True)
    return CheckResult(score=0.0, valid=True)


def parse_integer(text: str) -> tuple[int | None, str]:
    cleaned = text.strip().replace(",", "").replace("_", "").replace(" ", "")
    try:
        value = Decimal(cleaned)
    except InvalidOperation:
        return None, f"'{text.strip()[:40]}' is not a whole number."
    if not value.is_finite() or value != value.to_integral_value():
        return None, f"'{text.strip()[:40]}' is not a whole number."
    return int(value), ""


def check_integer(text: str, correct: int) -> CheckResult:
    value, error = parse_integer(text)
    if value is None:
        return CheckResult.invalid(error)
    return CheckResult(score=1.0 if value == correct else 0.0, valid=True)


# --- shapes ------------------------------------------------------------------------------------------

_SHAPE_WRAPPERS = re.compile(r"^(torch\.Size\s*\(\s*\[(?P<a>.*)\]\s*\)|\((?P<b>.*)\)|\[(?P<c>.*)\])$", re.DOTALL)


def parse_shape(text: str) -> tuple[list[int] | None, str]:
    """(3, 4), [3, 4], torch.Size([3, 4]), 3x4, 3 × 4, 3, 4. Returns (dims, error message)."""
    cleaned = text.strip()
    if not cleaned:
        return None, "Enter a shape such as (3, 4)."
    match = _SHAPE_WRAPPERS.match(cleaned)
    if match:
        inner = next(group for group in match.groups()[1:] if group is not None)
    elif cleaned.count("(") or cleaned.count(")") or cleaned.count("[") or cleaned.count("]"):
        return None, f"'{cleaned[:40]}' has unbalanced brackets. Write a shape such as (3, 4)."
    else:
        inner = cleaned
    pieces = [piece.strip() for piece in re.split(r"[,x×*]", inner)]
    if pieces and pieces[-1] == "":
        pieces.pop()  # (3,) is a one-dimensional shape
    if not pieces:
        return [], ""
    if any(not re.fullmatch(r"\d+", piece) for piece in pieces):
        return None, f"'{cleaned[:40]}' is not a shape: use whole numbers separated by commas, e.g. (3, 4)."
    return [int(piece) for piece in pieces], ""


def check_shape(text: str, correct: list[int]) -> CheckResult:
    dims, error = parse_shape(text)
    if dims is None:
        return CheckResult.invalid(error)
    return CheckResult(score=1.0 if dims == correct else 0.0, valid=True)


# --- text --------------------------------------------------------------------------------------------

def normalise_text(text: str, answer_config: dict[str, Any]) -> str:
    collapsed = " ".join(text.split())
    if answer_config.get("strip_punctuation", True):
        collapsed = collapsed.strip(" .;:!")
    return collapsed if answer_config.get("case_sensitive", False) else collapsed.casefold()


def check_text(text: str, accepted: list[str], answer_config: dict[str, Any]) -> CheckResult:
    submitted = normalise_text(text, answer_config)
    ok = any(submitted == normalise_text(candidate, answer_config) for candidate in accepted)
    return CheckResult(score=1.0 if ok else 0.0, valid=True)


# --- program output ----------------------------------------------------------------------------------

def normalise_output(text: str) -> str:
    lines = [line.rstrip() for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n")]
    while lines and not lines[-1]:
        lines.pop()
    while lines and not lines[0]:
        lines.pop(0)
    return "\n".join(lines)


def check_output(text: str, correct: str) -> CheckResult:
    submitted = normalise_output(text)
    expected = normalise_output(correct)
    if submitted == expected:
        return CheckResult(score=1.0, valid=True)
    submitted_lines, expected_lines = submitted.split("\n"), expected.split("\n")
    if len(submitted_lines) != len(expected_lines):
        return CheckResult(score=0.0, valid=True,
                           feedback=f"The program prints {len(expected_lines)} line(s); you wrote {len(submitted_lines)}.")
    first = next(i for i, (a, b) in enumerate(zip(submitted_lines, expected_lines)) if a != b)
    return CheckResult(score=0.0, valid=True, feedback=f"Line {first + 1} differs from what the program prints.")
