"""Checking a student's response against a variant's answer key, per answer kind.

Every checker returns a `CheckResult`; none raises on bad input. A response that cannot be read is
`valid=False` with a message saying what was expected: never a crash, never a silent zero.
Code completion is graded by running the student's code (see quizbank.completion); manual answers wait for
a grader.

Every reader is bounded (length, digits, exponent, dimensions) so that no answer costs more than a few
milliseconds: a student's text never reaches int() or Decimal arithmetic with an unbounded size.
docs/answer-formats.md is the reference for what each format accepts and what each message means.
"""
from __future__ import annotations

import ast
import math
import re
import textwrap
import unicodedata
import warnings
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from typing import Any

DEFAULT_RTOL = 0.01
DEFAULT_ATOL = 1e-8
# Tolerance boundaries are inclusive; this relative slack stops float error (7 * 0.1 != 0.7) from
# rejecting an answer exactly on the boundary, as Moodle's numerical question does.
BOUNDARY_SLACK = 1e-12
MAX_RESPONSE_CHARS = 20_000
MAX_NUMBER_CHARS = 100
MAX_EXPONENT_DIGITS = 6
MAX_INTEGER_DIGITS = 100
MAX_INTEGER_CHARS = 200  # 100 digits with thousands separators
MAX_SHAPE_CHARS = 1_000
MAX_SHAPE_DIMS = 64
MAX_DIM_DIGITS = 18

NUMBER_EXAMPLES = "0.25, -3, 1.5e-3, 2.5 × 10^-3 or 3/4"


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
    must say nothing about correctness). `message` is the same text grading gives an unreadable answer.
    `advisory` verdicts (a syntax error in code, an essay over its word limit) are shown but do not stop
    grading: the code still goes to the runner and the essay to a grader."""

    valid: bool
    message: str = ""
    empty: bool = False
    advisory: bool = False


def _graded_length(text: str) -> int:
    # Browsers submit textarea line breaks as CRLF; a line break counts as one character.
    return len(text) - text.count("\r\n")


def format_verdict(public: dict[str, Any], answer_config: dict[str, Any], response: Any) -> FormatVerdict:
    """Can this answer be read? Uses only the public variant and the answer format, never the key."""
    if response is None or (isinstance(response, str) and not response.strip()):
        return FormatVerdict(valid=True, empty=True)
    text = str(response)
    if _graded_length(text) > MAX_RESPONSE_CHARS:
        return FormatVerdict(False, f"The answer is longer than {MAX_RESPONSE_CHARS} characters.")
    answer_config = answer_config or {}
    kind = public.get("kind")
    if kind == "mcq":
        _, error = parse_choice(text, len(public.get("options") or []))
        return FormatVerdict(not error, error)
    if kind == "completion":
        return code_verdict(text)
    if kind in ("output", "unavailable"):
        return FormatVerdict(True)
    answer_format = answer_config.get("format", "numeric")
    if answer_format == "numeric":
        _, error = parse_number(text, percent=answer_config.get("percent") is True)
    elif answer_format == "integer":
        _, error = parse_integer(text)
    elif answer_format == "shape":
        _, error = parse_shape(text)
    elif answer_format == "manual":
        return word_limit_verdict(text, public.get("max_words"))
    elif answer_format == "text":
        error = ""
    else:
        error = f"This question has an unknown answer format {answer_format!r}."
    return FormatVerdict(not error, error)


def check(public: dict[str, Any], key: dict[str, Any], answer_config: dict[str, Any], response: Any) -> CheckResult:
    kind = public["kind"]
    answer_config = answer_config or {}
    verdict = format_verdict(public, answer_config, response)
    if verdict.empty:
        return CheckResult(score=0.0, valid=True, feedback="No answer.")
    if not verdict.valid and not verdict.advisory:
        return CheckResult.invalid(verdict.message)
    text = str(response)
    if kind == "mcq":
        return check_choice(text, key["correct_index"], len(public["options"]))
    if kind == "output":
        return check_output(text, key["answer"])
    if kind == "completion":
        return CheckResult(score=None, valid=True, feedback="Your code is being tested.", pending="runner")
    if kind == "unavailable":
        return CheckResult.invalid("This question is unavailable and cannot be graded.")
    answer_format = answer_config.get("format", "numeric")
    if answer_format == "manual":
        feedback = "Graded by your instructor." + (f" {verdict.message}" if verdict.message else "")
        return CheckResult(score=None, valid=True, feedback=feedback, pending="manual")
    if answer_format == "numeric":
        return check_numeric(text, float(key["answer"]), answer_config)
    if answer_format == "integer":
        return check_integer(text, int(key["answer"]))
    if answer_format == "shape":
        return check_shape(text, [int(x) for x in key["answer"]])
    if answer_format == "text":
        accepted = key["answer"]
        return check_text(text, [accepted] if isinstance(accepted, str) else list(accepted), answer_config)
    return CheckResult.invalid(f"This question has an unknown answer format {answer_format!r}.")


def _quoted(text: str, limit: int = 40) -> str:
    shown = text.strip()
    return f"'{shown[:limit]}…'" if len(shown) > limit else f"'{shown}'"


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
# Every pattern here is anchored and free of nested or overlapping quantifiers, and runs only on text
# already cut to MAX_NUMBER_CHARS, so no input can make it backtrack for long.

_DEC = r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)"
_SCI_RE = re.compile(rf"(?P<m>{_DEC})(?:[eE](?P<e>[+-]?\d+))?", re.ASCII)
_TIMES = "xX×*·⋅∙"
_TIMES_TEN_RE = re.compile(rf"(?:(?P<m>{_DEC})[{_TIMES}]|(?P<s>[+-]))?10(?:\^|\*\*)(?P<e>[+-]?\d+)", re.ASCII)
_FRACTION_RE = re.compile(rf"(?P<n>{_DEC})/(?P<d>{_DEC})", re.ASCII)
_LEADING_NUMBER_RE = re.compile(rf"(?P<num>{_DEC}(?:[eE][+-]?\d+)?)(?P<rest>.+)", re.ASCII | re.DOTALL)
_ASSIGNMENT_RE = re.compile(r"(?:[A-Za-z_]\w{0,20})?(?:=|≈|~|≃)(?P<rest>.+)", re.DOTALL)
_CALCULATION_RE = re.compile(r"sqrt|log|ln|exp|pi|π|sin|cos|tan|[\d)][-+*/^][\d(.]", re.ASCII)
_DIGIT_SPACE_DIGIT_RE = re.compile(r"[\d.]\s+[\d.]")
_DECIMAL_COMMA_RE = re.compile(r"[+-]?\d+,\d+", re.ASCII)
_THOUSANDS_RE = re.compile(r"[+-]?[1-9]\d{0,2}(?:,\d{3})+(?:\.\d*)?", re.ASCII)
_UNDERSCORES_RE = re.compile(r"[+-]?\d+(?:_\d+)+", re.ASCII)
_SUPERSCRIPT_RUN_RE = re.compile("[⁰¹²³⁴⁵⁶⁷⁸⁹⁺⁻]+")
_SUPERSCRIPTS = str.maketrans("⁰¹²³⁴⁵⁶⁷⁸⁹⁺⁻", "0123456789+-")
_DASHES = str.maketrans({"−": "-", "‒": "-", "–": "-", "﹣": "-", "－": "-", "⁄": "/", "∕": "/", "÷": "/"})
_EXPONENT_TOO_LONG = "exponent too long"
_INFINITIES = {"inf", "+inf", "-inf", "infinity", "+infinity", "-infinity", "∞", "+∞", "-∞"}


def _superscript_power(match: re.Match[str]) -> str:
    caret = "" if match.string[match.start() - 1:match.start()] == "^" else "^"
    return caret + match.group().translate(_SUPERSCRIPTS)


def _clean_number_text(text: str) -> str:
    """Full-width digits, Unicode minus signs, 10⁻⁸ superscripts and LaTeX spellings, in ASCII."""
    cleaned = _SUPERSCRIPT_RUN_RE.sub(_superscript_power, text.strip())  # before NFKC, which drops the ^
    cleaned = unicodedata.normalize("NFKC", cleaned).translate(_DASHES).strip().strip("$").strip()
    if cleaned.count(".") > 1:
        cleaned = cleaned.rstrip(".")  # a sentence's full stop after 2.5e-3.
    return cleaned


def _compact(cleaned: str) -> str:
    compact = re.sub(r"\s+", "", cleaned)
    compact = compact.replace("\\times", "×").replace("\\cdot", "·")
    return compact.replace("{", "").replace("}", "")


def _exponent(digits: str | None) -> int | None:
    """The exponent as an int, or None when it has more digits than any answer needs."""
    if digits is None:
        return 0
    if len(digits.lstrip("+-").lstrip("0")) > MAX_EXPONENT_DIGITS:
        return None
    return int(digits)


def _read_decimal(compact: str) -> tuple[Decimal | Fraction | None, str]:
    """A plain, scientific, times-ten or fraction number, exactly. (None, "") when the text is none of them,
    (None, _EXPONENT_TOO_LONG) when its exponent has too many digits, (None, message) for division by zero."""
    match = _SCI_RE.fullmatch(compact) or _TIMES_TEN_RE.fullmatch(compact)
    if match:
        exponent = _exponent(match.group("e"))
        mantissa = match.group("m") or ((match.groupdict().get("s") or "") + "1")
        if exponent is None:
            return None, _EXPONENT_TOO_LONG
        return Decimal(f"{mantissa}e{exponent}"), ""
    match = _FRACTION_RE.fullmatch(compact)
    if match:
        denominator = Decimal(match.group("d"))
        if denominator.is_zero():
            return None, "Division by zero is not a number."
        return Fraction(Decimal(match.group("n"))) / Fraction(denominator), ""
    return None, ""


def _as_fraction_text(body: str) -> str:
    """93 -> 0.93, for advice about a percent sign; "" when it is not a short plain number."""
    match = _SCI_RE.fullmatch(body)
    if not match or match.group("e") is not None or len(body) > 20:
        return ""
    return format(Decimal(body).scaleb(-2).normalize(), "f")


def _comma_message(text: str, body: str) -> str:
    shown = _quoted(text)
    if _THOUSANDS_RE.fullmatch(body) and body.count(",") > 1:
        return f"{shown} has thousands separators: write the number without them, e.g. 2500 or 2.5e3."
    if _THOUSANDS_RE.fullmatch(body):
        return (f"{shown} has a comma, which could be a thousands separator or a decimal comma. Write the number "
                "without commas: a decimal point for decimals (e.g. 0.25) and no separator for thousands (e.g. 2500).")
    if _DECIMAL_COMMA_RE.fullmatch(body):
        return f"{shown} uses a decimal comma; write it with a decimal point, e.g. {body.replace(',', '.')}."
    return f"{shown} has a comma: write numbers with a decimal point and no thousands separators, e.g. 0.25 or 2500."


def _unreadable_number_message(text: str, body: str, *, whole: bool) -> str:
    """What to change, for text that is not a number in any accepted form."""
    shown = _quoted(text)
    noun = "a whole number" if whole else "a number"
    examples = "12, -3 or 1,000" if whole else NUMBER_EXAMPLES
    leading = _LEADING_NUMBER_RE.fullmatch(body)
    if leading:
        number, rest = leading.group("num"), leading.group("rest")
        if re.fullmatch(r"[eE][+-]?", rest):
            return f"{shown} has no exponent after the 'e': write e.g. 1.5e-3."
        if rest[0] in _TIMES and re.match(r".10", rest):
            return f"{shown}: write the power of ten with ^ or **, e.g. 3×10^-8, 3*10**-8 or 3e-8."
        if rest[0].isalpha() or rest[0] in "°µ'\"":
            return (f"{shown} has a unit or other text after the number: enter only the number, e.g. {number}. "
                    "The question says which unit to answer in.")
    assignment = _ASSIGNMENT_RE.fullmatch(body)
    if assignment and _read_decimal(assignment.group("rest"))[0] is not None:
        return f"{shown}: enter only the number, e.g. {assignment.group('rest')}."
    if _CALCULATION_RE.search(body):
        return f"{shown} looks like a calculation: work it out and enter {noun}, e.g. {examples}."
    return f"{shown} is not {noun}. Write e.g. {examples}."


def parse_number(text: str, *, percent: bool = False) -> tuple[float | None, str]:
    """A number as students write it: 0.25, -3, 1e-3, 2.5 × 10^-3, 3*10**-8, 3/4 (and 93% when the question
    opts in with `percent`). Returns (value, error message)."""
    if not text or not text.strip():
        return None, "Enter a number."
    if len(text.strip()) > MAX_NUMBER_CHARS:
        return None, f"{_quoted(text)} is too long for a number: write it in scientific notation, e.g. 1.5e-3."
    cleaned = _clean_number_text(text)
    if not cleaned:
        return None, "Enter a number."
    if len(cleaned) > MAX_NUMBER_CHARS:
        return None, f"{_quoted(text)} is too long for a number: write it in scientific notation, e.g. 1.5e-3."
    if _DIGIT_SPACE_DIGIT_RE.search(cleaned):
        return None, (f"{_quoted(text)} has a space between digits: write the number without spaces, "
                      "e.g. 2500 or 2.5e3.")
    body = _compact(cleaned)
    if body.casefold() in _INFINITIES:
        return None, "Enter a finite number."
    is_percent = body.endswith("%")
    if is_percent:
        body = body[:-1]
    if "," in body:
        return None, _comma_message(text, body)
    value, error = _read_decimal(body)
    if value is None:
        if error == _EXPONENT_TOO_LONG:
            return None, f"{_quoted(text)} is too large or too small to be read: its exponent is too long."
        return None, error or _unreadable_number_message(text, body, whole=False)
    if is_percent and not percent:
        fraction = _as_fraction_text(body)
        advice = f" Write {body} if the question asks for a percentage, {fraction} if it asks for a fraction." if fraction else ""
        return None, f"{_quoted(text)} has a percent sign, which this question does not read: enter the number without %.{advice}"
    if is_percent and isinstance(value, Fraction):
        value = value / 100
    elif is_percent:
        sign, digits, exponent = value.as_tuple()
        value = Decimal((sign, digits, int(exponent) - 2))  # exact, unlike scaleb, which rounds and can trap
    try:
        number = float(value)
    except OverflowError:
        number = math.inf
    if not math.isfinite(number):
        return None, f"{_quoted(text)} is too large to be read: the largest number is about 1.8e308."
    if number == 0 and value != 0:
        return None, f"{_quoted(text)} is too small to be read (below 5e-324); enter 0 if you mean 0."
    return number, ""


def round_sigfigs(value: float, sigfigs: int) -> float:
    if value == 0:
        return 0.0
    return float(f"{value:.{sigfigs - 1}e}")


def numeric_matches(submitted: float, correct: float, answer_config: dict[str, Any]) -> bool:
    if not (math.isfinite(submitted) and math.isfinite(correct)):
        return submitted == correct
    difference = abs(submitted - correct)
    if "sigfigs" in answer_config:
        digits = max(1, int(answer_config["sigfigs"]))
        # PrairieLearn-style: the submission must agree with the true value to `digits` significant figures.
        if correct == 0:
            return abs(submitted) < 10.0 ** (-digits)
        scale = 10.0 ** (math.floor(math.log10(abs(correct))) - digits + 1)
        return difference <= 0.5 * scale * (1 + 1e-9)
    rtol = float(answer_config.get("rtol", DEFAULT_RTOL))
    atol = float(answer_config.get("atol", DEFAULT_ATOL))
    bound = atol + rtol * abs(correct)
    return difference <= bound + BOUNDARY_SLACK * max(abs(submitted), abs(correct), bound)


def check_numeric(text: str, correct: float, answer_config: dict[str, Any]) -> CheckResult:
    value, error = parse_number(text, percent=answer_config.get("percent") is True)
    if value is None:
        return CheckResult.invalid(error)
    if numeric_matches(value, correct, answer_config):
        return CheckResult(score=1.0, valid=True)
    return CheckResult(score=0.0, valid=True)


def parse_integer(text: str) -> tuple[int | None, str]:
    """12, -3, 1,000 (commas only as correctly grouped thousands), 1_000, 1e6, 3 × 10^6, 12.0."""
    if not text or not text.strip():
        return None, "Enter a whole number."
    if len(text.strip()) > MAX_INTEGER_CHARS:
        return None, f"{_quoted(text)} is too long: whole-number answers have at most {MAX_INTEGER_DIGITS} digits."
    cleaned = _clean_number_text(text)
    if not cleaned or len(cleaned) > MAX_INTEGER_CHARS:
        return None, f"{_quoted(text)} is not a whole number. Write e.g. 12, -3 or 1,000."
    if _DIGIT_SPACE_DIGIT_RE.search(cleaned):
        return None, f"{_quoted(text)} has a space between digits: write the number without spaces, e.g. 2500."
    body = _compact(cleaned)
    if "," in body:
        if not _THOUSANDS_RE.fullmatch(body) or "." in body:
            return None, (f"{_quoted(text)} has a comma that is not a thousands separator: write the whole number "
                          "without commas (e.g. 2500), or with commas between groups of three digits (e.g. 2,500).")
        body = body.replace(",", "")
    if "_" in body:
        if not _UNDERSCORES_RE.fullmatch(body):
            return None, f"{_quoted(text)} is not a whole number. Write e.g. 12, -3 or 1,000."
        body = body.replace("_", "")
    if body.endswith("%"):
        return None, f"{_quoted(text)} has a percent sign: enter a whole number without %."
    value, error = _read_decimal(body)
    if error == _EXPONENT_TOO_LONG:
        return None, f"{_quoted(text)} is too large or too small: whole-number answers have at most {MAX_INTEGER_DIGITS} digits."
    if error:
        return None, error
    if value is None:
        return None, _unreadable_number_message(text, body, whole=True)
    if isinstance(value, Fraction):
        return None, f"{_quoted(text)} is a fraction, not a whole number: enter e.g. 12 or -3."
    if value.is_zero():
        return 0, ""
    if value.adjusted() >= MAX_INTEGER_DIGITS:
        return None, f"{_quoted(text)} is too large: whole-number answers have at most {MAX_INTEGER_DIGITS} digits."
    _, digits, exponent = value.as_tuple()
    exponent = int(exponent)  # always finite: the patterns above admit no inf or nan
    if exponent < 0 and (value.adjusted() < 0 or any(digits[exponent:])):
        return None, f"{_quoted(text)} is not a whole number."
    return int(value), ""


def check_integer(text: str, correct: int) -> CheckResult:
    value, error = parse_integer(text)
    if value is None:
        return CheckResult.invalid(error)
    return CheckResult(score=1.0 if value == correct else 0.0, valid=True)


# --- shapes ------------------------------------------------------------------------------------------

_SIZE_PREFIX_RE = re.compile(r"(?:torch\s*\.\s*)?Size\s*(?=\()", re.ASCII | re.IGNORECASE)
_TIMES_SHAPE_RE = re.compile(r"\s*\d+\s*(?:x\s*\d+\s*)+", re.ASCII)
_OPENERS = {"(": ")", "[": "]"}
_CLOSERS = {")": "(", "]": "["}
SHAPE_EXAMPLE = "such as (3, 4)"


def _closing_index(text: str, start: int) -> int:
    """Where the bracket opened at `start` closes (the brackets are known to balance)."""
    depth = 0
    for index in range(start, len(text)):
        if text[index] in _OPENERS:
            depth += 1
        elif text[index] in _CLOSERS:
            depth -= 1
            if depth == 0:
                return index
    return -1


def _bracket_problem(text: str) -> str:
    if "{" in text or "}" in text:
        return "uses braces: put ( ) or [ ] around a shape, not { }"
    stack: list[str] = []
    for char in text:
        if char in _OPENERS:
            stack.append(char)
        elif char in _CLOSERS:
            if not stack:
                return f"has a '{char}' with no '{_CLOSERS[char]}' before it"
            opener = stack.pop()
            if _OPENERS[opener] != char:
                return f"opens with '{opener}' but closes with '{char}'"
    if stack:
        return f"has an unclosed '{stack[-1]}'"
    return ""


def _unwrap(text: str) -> str | None:
    """The inside of brackets that enclose the whole text, or None when they do not."""
    if text[:1] in _OPENERS and _closing_index(text, 0) == len(text) - 1:
        return text[1:-1].strip()
    return None


def parse_shape(text: str) -> tuple[list[int] | None, str]:
    """(3, 4), [3, 4], torch.Size([3, 4]), torch.Size((3, 4)), 3x4, 3 × 4, 3, 4, (3,), ().
    Returns (dims, error message)."""
    if not text or not text.strip():
        return None, f"Enter a shape, {SHAPE_EXAMPLE}."
    if len(text.strip()) > MAX_SHAPE_CHARS:
        return None, f"{_quoted(text)} is too long for a shape."
    cleaned = unicodedata.normalize("NFKC", text).translate(_DASHES).strip()
    shown = _quoted(text)
    problem = _bracket_problem(cleaned)
    if problem:
        return None, f"{shown} {problem}. Write a shape {SHAPE_EXAMPLE}."
    prefix = _SIZE_PREFIX_RE.match(cleaned)
    inner: str | None = cleaned
    if prefix:
        inner = _unwrap(cleaned[prefix.end():])
        if inner is not None and inner[:1] in _OPENERS:
            inner = _unwrap(inner)
    elif cleaned[:1] in _OPENERS:
        inner = _unwrap(cleaned)
    if inner is None or (inner is cleaned and any(char in inner for char in "()[]")):
        return None, f"{shown} has text outside the brackets. Write a shape {SHAPE_EXAMPLE}."
    if any(char in inner for char in "()[]"):
        return None, f"{shown} has brackets inside brackets: a shape is one list of whole numbers, {SHAPE_EXAMPLE}."
    if not inner:
        return [], ""
    inner = re.sub("[X×*]", "x", inner)
    separator = "x" if _TIMES_SHAPE_RE.fullmatch(inner) else ","
    pieces = [piece.strip() for piece in inner.split(separator)]
    if separator == "," and len(pieces) > 1 and pieces[-1] == "":
        pieces.pop()  # (3,) is a one-dimensional shape
    if len(pieces) > MAX_SHAPE_DIMS:
        return None, f"{shown} has {len(pieces)} dimensions; at most {MAX_SHAPE_DIMS} are allowed."
    if any(piece == "" for piece in pieces):
        return None, f"{shown} has an empty dimension (a separator with no number beside it). Write a shape {SHAPE_EXAMPLE}."
    dims = []
    for piece in pieces:
        if re.fullmatch(r"\d+", piece, re.ASCII):
            if len(piece.lstrip("0")) > MAX_DIM_DIGITS:
                return None, f"{shown}: the dimension {_quoted(piece, 20)} is too large for any array."
            dims.append(int(piece))
        elif re.fullmatch(r"-\s*\d+", piece, re.ASCII):
            return None, (f"{shown}: the dimension {_quoted(piece, 20)} is negative; dimensions are sizes, 0 or more "
                          "(-1 only means 'infer' in reshape).")
        elif re.fullmatch(r"\d+(?:\s+\d+)+", piece, re.ASCII):
            return None, f"{shown}: separate the dimensions with commas, {SHAPE_EXAMPLE}."
        elif re.fullmatch(r"[+-]?(?:\d+\.\d*|\.\d+|\d+(?:\.\d*)?[eE][+-]?\d+)", piece, re.ASCII):
            return None, f"{shown}: the dimension {_quoted(piece, 20)} is not a whole number; dimensions are whole numbers, {SHAPE_EXAMPLE}."
        else:
            return None, f"{shown}: {_quoted(piece, 20)} is not a dimension; a shape is whole numbers separated by commas, {SHAPE_EXAMPLE}."
    return dims, ""


def check_shape(text: str, correct: list[int]) -> CheckResult:
    dims, error = parse_shape(text)
    if dims is None:
        return CheckResult.invalid(error)
    return CheckResult(score=1.0 if dims == correct else 0.0, valid=True)


# --- text --------------------------------------------------------------------------------------------

# Invisible characters that PDFs and word processors leave in copied text.
_INVISIBLE = dict.fromkeys(map(ord, "\u00ad\u200b\u200c\u200d\u2060\ufeff"))
_TYPOGRAPHIC = str.maketrans({"‘": "'", "’": "'", "“": '"', "”": '"', "‐": "-", "‑": "-", "‒": "-", "–": "-",
                              "—": "-", "−": "-"})
TEXT_PUNCTUATION = " .,;:!?"


def normalise_text(text: str, answer_config: dict[str, Any]) -> str:
    """NFKC (é as one code point or as e + accent, full-width letters), typographic quotes and dashes as
    ASCII, runs of whitespace as one space; then, by default, no surrounding punctuation and no case."""
    normal = unicodedata.normalize("NFKC", text.translate(_INVISIBLE)).translate(_TYPOGRAPHIC)
    collapsed = " ".join(normal.split())
    if answer_config.get("strip_punctuation", True):
        collapsed = collapsed.strip(TEXT_PUNCTUATION)
    if answer_config.get("case_sensitive", False):
        return collapsed
    return unicodedata.normalize("NFKC", collapsed.casefold())


def check_text(text: str, accepted: list[str], answer_config: dict[str, Any]) -> CheckResult:
    submitted = normalise_text(text, answer_config)
    ok = any(submitted == normalise_text(str(candidate), answer_config) for candidate in accepted)
    return CheckResult(score=1.0 if ok else 0.0, valid=True)


# --- program output ----------------------------------------------------------------------------------

def normalise_output(text: str) -> str:
    lines = [line.rstrip() for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n")]
    while lines and not lines[-1]:
        lines.pop()
    while lines and not lines[0]:
        lines.pop(0)
    return unicodedata.normalize("NFC", "\n".join(lines))


def check_output(text: str, correct: str) -> CheckResult:
    submitted = normalise_output(text)
    expected = normalise_output(str(correct))
    if submitted == expected:
        return CheckResult(score=1.0, valid=True)
    submitted_lines, expected_lines = submitted.split("\n"), expected.split("\n")
    if len(submitted_lines) != len(expected_lines):
        return CheckResult(score=0.0, valid=True,
                           feedback=f"The program prints {len(expected_lines)} line(s); you wrote {len(submitted_lines)}.")
    first = next((i for i, (a, b) in enumerate(zip(submitted_lines, expected_lines)) if a != b), 0)
    return CheckResult(score=0.0, valid=True, feedback=f"Line {first + 1} differs from what the program prints.")


# --- code and essays: advisory verdicts --------------------------------------------------------------

def code_verdict(text: str) -> FormatVerdict:
    """Does the fragment parse? ast.parse only: nothing is compiled or run here. The fragment is dedented
    as quizbank.engine fills it into the scaffold, so its line numbers are the student's own lines.
    (ast.parse accepts a bare `return` or `yield`; only compile() rejects them outside a function.)"""
    source = textwrap.dedent(text.replace("\r\n", "\n").replace("\r", "\n").replace("\t", "    "))
    line_count = max(1, source.count("\n") + 1)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # "invalid escape sequence" and the like would flood the server log
            ast.parse(source, filename="<answer>")
    except SyntaxError as error:
        line = min(max(error.lineno or 1, 1), line_count)
        return FormatVerdict(False, f"Line {line}: {error.msg}", advisory=True)
    except (RecursionError, MemoryError):
        return FormatVerdict(False, "Your code is nested too deeply for Python to read; simplify it.", advisory=True)
    except ValueError:  # a null byte, or a lone surrogate that cannot be encoded
        return FormatVerdict(False, "Your code contains a character Python cannot read (such as a null byte); "
                             "remove it.", advisory=True)
    return FormatVerdict(True)


def word_limit_verdict(text: str, max_words: Any) -> FormatVerdict:
    if isinstance(max_words, bool) or not isinstance(max_words, int) or max_words <= 0:
        return FormatVerdict(True)
    words = len(text.split())
    if words > max_words:
        return FormatVerdict(False, f"{words} words: the limit is {max_words}.", advisory=True)
    return FormatVerdict(True)
