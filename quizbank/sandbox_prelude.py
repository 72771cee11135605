# This file is never imported by the project: its text is sent to the runner as the first cell of every
# template job and runs inside the sandbox, in the job's namespace. It defines the names a template's code
# may use (seed, rng, np_rng, np, torch, math, random) and the `_qb_*` helpers the engine's own cells call.
# Everything it returns to the server goes through the runner's JSON boundary.
import contextlib as _qb_contextlib
import io as _qb_io
import json as _qb_json
import math
import random
import sys as _qb_sys
import traceback as _qb_traceback

import jinja2 as _qb_jinja2
import numpy as np
import torch

seed = int(__seed__)  # noqa: F821 - bound by the runner from the job's inputs


def _qb_seed_all(value):
    random.seed(value)
    np.random.seed(value % (2**32))
    torch.manual_seed(value)


_qb_seed_all(seed)
rng = random.Random(seed)
np_rng = np.random.default_rng(seed)


class QuizbankPartError(Exception):
    """Raised for a problem in one part of the template; the message is JSON {part, line, message}."""

    def __init__(self, part, message, line=None):
        super().__init__(_qb_json.dumps({"part": part, "line": line, "message": message}))


def _qb_template_line(exc):
    line = None
    for frame, lineno in _qb_traceback.walk_tb(exc.__traceback__):
        if frame.f_code.co_filename == "<template>":
            line = lineno
    return line or getattr(exc, "lineno", None)


def _qb_fmt_number(value, digits=4):
    value = float(value)
    if value == int(value) and abs(value) < 1e15:
        return str(int(value))
    return format(value, f".{digits}g")


def _qb_latex_matrix(value, digits=3):
    rows = _qb_plain(value)
    if not isinstance(rows, list):
        return _qb_fmt_number(rows, digits)
    if rows and not isinstance(rows[0], list):
        rows = [rows]
    body = r" \\ ".join(" & ".join(_qb_fmt_number(x, digits) for x in row) for row in rows)
    return r"\begin{bmatrix}" + body + r"\end{bmatrix}"


def _qb_shape_text(value):
    items = [int(x) for x in _qb_plain(value)]
    return "(" + ", ".join(str(x) for x in items) + ("," if len(items) == 1 else "") + ")"


_qb_env = _qb_jinja2.Environment(
    undefined=_qb_jinja2.StrictUndefined, keep_trailing_newline=True, autoescape=False
)
_qb_env.filters.update(num=_qb_fmt_number, matrix=_qb_latex_matrix, shape=_qb_shape_text)


def _qb_render(part, source, namespace):
    if not source:
        return ""
    try:
        return _qb_env.from_string(source).render(namespace)
    except _qb_jinja2.TemplateSyntaxError as exc:
        raise QuizbankPartError(part, f"template syntax: {exc.message}", exc.lineno) from None
    except Exception as exc:  # an undefined name, a failing filter: the author's mistake, located
        raise QuizbankPartError(part, f"{type(exc).__name__}: {exc}", _qb_template_line(exc)) from None


class ProgramRun:
    def __init__(self, stdout, error_type=None, error_message=None, error_line=None):
        self.stdout = stdout
        self.error_type = error_type
        self.error_message = error_message
        self.error_line = error_line

    def __repr__(self):
        return f"ProgramRun(stdout={self.stdout!r}, error_type={self.error_type!r}, error_line={self.error_line!r})"


def run_program(source, name="program"):
    """Run a program as a student would see it run: fresh namespace, RNGs reseeded, stdout captured."""
    _qb_seed_all(seed)
    buffer = _qb_io.StringIO()
    namespace = {"__name__": "__main__"}
    filename = f"<{name}>"
    try:
        code = compile(source, filename, "exec")
        with _qb_contextlib.redirect_stdout(buffer):
            exec(code, namespace)
    except BaseException as exc:  # noqa: BLE001 - the program's failure is data for the question
        line = None
        for frame, lineno in _qb_traceback.walk_tb(exc.__traceback__):
            if frame.f_code.co_filename == filename:
                line = lineno
        if isinstance(exc, SyntaxError):
            line = exc.lineno
        return ProgramRun(buffer.getvalue(), type(exc).__name__, str(exc), line)
    return ProgramRun(buffer.getvalue())


def normalise_output(text):
    lines = [line.rstrip() for line in str(text).replace("\r\n", "\n").split("\n")]
    while lines and not lines[-1]:
        lines.pop()
    return "\n".join(lines)


def _qb_plain(value):
    """Numbers, strings, lists and dicts only: what the variant stores and Jinja/JSON can show."""
    if isinstance(value, torch.Tensor):
        return value.detach().cpu().tolist()
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, (np.generic,)):
        return value.item()
    if isinstance(value, torch.Size):
        return [int(x) for x in value]
    if isinstance(value, (list, tuple)):
        return [_qb_plain(x) for x in value]
    if isinstance(value, dict):
        return {str(k): _qb_plain(v) for k, v in value.items()}
    return value


def _qb_encode(value):
    """A test's return value as JSON the server compares: arrays keep their shape and dtype."""
    if isinstance(value, (torch.Tensor, np.ndarray)):
        array = value.detach().cpu().numpy() if isinstance(value, torch.Tensor) else value
        return {"__array__": list(array.shape), "dtype": str(array.dtype), "data": array.reshape(-1).tolist()}
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, torch.Size):
        return [int(x) for x in value]
    if isinstance(value, (list, tuple)):
        return [_qb_encode(x) for x in value]
    if isinstance(value, dict):
        return {str(k): _qb_encode(v) for k, v in value.items()}
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    raise TypeError(f"a test returned a {type(value).__name__}; return numbers, strings, lists, dicts or tensors")


_QB_SKIP_TYPES = (type(math), type(_qb_seed_all), type, ProgramRun, random.Random, np.random.Generator)


def _qb_public_params(namespace):
    params = {}
    for name, value in namespace.items():
        if name.startswith("_") or name in {"seed", "rng", "np_rng", "np", "torch", "math", "random", "program",
                                            "scaffold", "answer", "misconceptions", "distractors"}:
            continue
        if isinstance(value, _QB_SKIP_TYPES) or callable(value):
            continue
        try:
            plain = _qb_plain(value)
            text = _qb_json.dumps(plain)
        except (TypeError, ValueError):
            continue
        if len(text) <= 4000:
            params[name] = plain
    return params


def _qb_default_format(value, answer_config):
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, (torch.Size, tuple)):
        return _qb_shape_text(value)
    plain = _qb_plain(value)
    if isinstance(plain, bool):
        return str(plain)
    if isinstance(plain, int):
        return str(plain)
    if isinstance(plain, float):
        option_format = answer_config.get("option_format")
        return format(plain, option_format) if option_format else _qb_fmt_number(plain)
    return str(plain)


def _qb_options(namespace, answer_config):
    formatter = namespace.get("format_option")
    if formatter is not None and not callable(formatter):
        raise QuizbankPartError("misconceptions", "format_option must be a function of one value")

    def fmt(value, source):
        try:
            text = formatter(value) if formatter else _qb_default_format(value, answer_config)
        except Exception as exc:
            raise QuizbankPartError("misconceptions", f"formatting option from {source} failed: {type(exc).__name__}: {exc}")
        if not isinstance(text, str) or not text.strip():
            raise QuizbankPartError("misconceptions", f"option from {source} formats to an empty text")
        return text.strip()

    if "answer" not in namespace:
        raise QuizbankPartError("solution", "the solution must assign `answer` (the correct option's value)")
    options = [{"text": fmt(namespace["answer"], "the correct answer"), "source": "correct"}]
    misconceptions = namespace.get("misconceptions", {})
    if not isinstance(misconceptions, dict):
        raise QuizbankPartError("misconceptions", "`misconceptions` must be a dict {name: value}")
    for name, value in misconceptions.items():
        options.append({"text": fmt(value, f"misconception {name!r}"), "source": f"misconception:{name}"})
    distractors = namespace.get("distractors", [])
    if isinstance(distractors, dict):
        distractors = list(distractors.values())
    if not isinstance(distractors, (list, tuple)):
        raise QuizbankPartError("misconceptions", "`distractors` must be a list of option texts")
    for text in distractors:
        options.append({"text": fmt(text, f"fixed distractor {text!r}"), "source": "fixed"})
    # Strict by default: two options with the same text is a template error. With
    # answer.drop_colliding_distractors a distractor that coincides with an earlier option is dropped (the
    # mistake makes no difference for this variant), as long as answer.min_options (default 3) remain.
    drop = bool(answer_config.get("drop_colliding_distractors", False))
    seen = {}
    kept = []
    for option in options:
        if option["text"] in seen:
            if drop and option["source"] != "correct":
                continue
            raise QuizbankPartError(
                "misconceptions",
                f"options collide: {option['text']!r} comes from both {seen[option['text']]} and {option['source']}",
            )
        seen[option["text"]] = option["source"]
        kept.append(option)
    max_options = int(answer_config.get("max_options", 0) or 0)
    if max_options and len(kept) > max_options:
        kept = kept[:max_options]
    min_options = int(answer_config.get("min_options", 3))
    if len(kept) < min_options:
        raise QuizbankPartError("misconceptions", f"an MCQ needs at least {min_options} options; this variant has {len(kept)}")
    return kept


def _qb_check_finite(value, part="solution"):
    for item in _qb_flatten(_qb_plain(value)):
        if isinstance(item, float) and not math.isfinite(item):
            raise QuizbankPartError(part, f"the answer contains {item!r}")


def _qb_flatten(value):
    if isinstance(value, list):
        for item in value:
            yield from _qb_flatten(item)
    elif isinstance(value, dict):
        for item in value.values():
            yield from _qb_flatten(item)
    else:
        yield value


def _qb_short_answer(namespace, answer_config):
    answer_format = answer_config.get("format", "numeric")
    if answer_format == "manual":
        return _qb_plain(namespace.get("answer", ""))
    if "answer" not in namespace:
        raise QuizbankPartError("solution", "the solution must assign `answer`")
    value = _qb_plain(namespace["answer"])
    _qb_check_finite(value)
    try:
        if answer_format == "numeric":
            return float(value)
        if answer_format == "integer":
            if float(value) != int(float(value)):
                raise QuizbankPartError("solution", f"an integer answer is required, got {value!r}")
            return int(float(value))
        if answer_format == "shape":
            return [int(x) for x in value]
        if answer_format == "text":
            accepted = value if isinstance(value, list) else [value]
            if not accepted or not all(isinstance(x, (str, int, float)) for x in accepted):
                raise QuizbankPartError("solution", "a text answer must be a string or a list of accepted strings")
            return [str(x) for x in accepted]
    except (TypeError, ValueError) as exc:
        raise QuizbankPartError("solution", f"answer {value!r} does not fit format {answer_format!r}: {exc}")
    raise QuizbankPartError("metadata", f"unknown answer format {answer_format!r}")


def _qb_misconception_values(namespace):
    """Non-MCQ templates may name mistakes too: the value each one computes, kept in the key so that a wrong
    answer equal to it can be attributed to that mistake (exams.analytics.misconceptions)."""
    misconceptions = namespace.get("misconceptions", {})
    if not isinstance(misconceptions, dict):
        raise QuizbankPartError("misconceptions", "`misconceptions` must be a dict {name: value}")
    values = {}
    for name, value in misconceptions.items():
        try:
            plain = _qb_plain(value)
            _qb_json.dumps(plain)
        except (TypeError, ValueError):
            raise QuizbankPartError("misconceptions", f"misconception {name!r} must be a number, text, shape or list")
        values[str(name)] = plain
    return values


def _qb_collect(namespace, spec):
    kind = spec["kind"]
    answer_config = spec.get("answer", {})
    variant = {"params": _qb_public_params(namespace), "options": None, "expected_tests": None}
    if kind == "mcq":
        variant["options"] = _qb_options(namespace, answer_config)
        variant["answer"] = variant["options"][0]["text"]
    elif kind == "short":
        variant["answer"] = _qb_short_answer(namespace, answer_config)
    elif kind == "output":
        if "answer" in namespace:
            output = str(namespace["answer"])
        else:
            run = run_program(namespace["program"])
            if run.error_type:
                raise QuizbankPartError(
                    "program", f"the shown program raised {run.error_type}: {run.error_message}", run.error_line
                )
            output = run.stdout
        output = normalise_output(output)
        if not output:
            raise QuizbankPartError("program", "the shown program prints nothing")
        if len(output) > 2000:
            raise QuizbankPartError("program", f"the program prints {len(output)} characters; keep it under 2000")
        variant["answer"] = output
    elif kind == "completion":
        variant["answer"] = namespace.get("_qb_reference_region", "")
    if kind != "mcq":
        variant["misconception_values"] = _qb_misconception_values(namespace)
    namespace.setdefault("answer", variant["answer"])  # the explanation may show the answer
    namespace["answer_text"] = variant["answer"] if kind == "mcq" else str(variant["answer"])  # as displayed
    variant["stem"] = _qb_render("stem", spec.get("stem", ""), namespace)
    variant["explanation"] = _qb_render("explanation", spec.get("explanation", ""), namespace)
    variant["model_answer"] = _qb_render("model_answer", spec.get("model_answer", ""), namespace)
    variant["program"] = namespace.get("program", "") or ""
    variant["scaffold"] = namespace.get("scaffold", "") or ""
    return variant


# --- code completion ---------------------------------------------------------------------------------

def _qb_region(scaffold, begin, end):
    lines = scaffold.split("\n")
    start = next(i for i, line in enumerate(lines) if line.strip() == begin)
    stop = next(i for i, line in enumerate(lines) if line.strip() == end)
    if stop <= start:
        raise QuizbankPartError("scaffold", "the end marker comes before the begin marker", stop + 1)
    indent = lines[start][: len(lines[start]) - len(lines[start].lstrip())]
    return lines, start, stop, indent


def _qb_fill(scaffold, fragment, begin, end):
    """The scaffold with its region replaced by `fragment`, re-indented to the region's indentation.
    Returns the program and the line (1-based) where the fragment starts."""
    import textwrap

    lines, start, stop, indent = _qb_region(scaffold, begin, end)
    body = textwrap.dedent(fragment.replace("\t", "    ")).strip("\n")
    body_lines = [indent + line if line.strip() else "" for line in body.split("\n")] if body else [indent + "pass"]
    program_lines = lines[:start] + body_lines + lines[stop + 1:]
    return "\n".join(program_lines), start + 1, len(body_lines)


def _qb_test_functions(namespace, visible_names):
    names = [name for name, value in namespace.items() if name.startswith("test_") and callable(value)]
    return [(name, name in visible_names) for name in names]


def _qb_run_tests(namespace, visible_names, region_start, region_length, filename):
    """Each test's return value (encoded) or its error, with lines mapped to the student's own fragment."""
    results = []
    for name, visible in _qb_test_functions(namespace, visible_names):
        entry = {"name": name, "visible": visible}
        try:
            _qb_seed_all(seed)
            entry["value"] = _qb_encode(namespace[name]())
        except BaseException as exc:  # noqa: BLE001 - a student's exception is feedback
            entry["error"] = _qb_describe_error(exc, region_start, region_length, filename)
        results.append(entry)
    return results


def _qb_test_values(namespace, names):
    """Hidden tests: each test's encoded return value, or a bare error marker. No exception text: in this job
    the student's code can read the hidden tests, and a message could carry what it read."""
    results = []
    for name in names:
        try:
            _qb_seed_all(seed)
            results.append({"name": name, "value": _qb_encode(namespace[name]())})
        except BaseException:  # noqa: BLE001 - any failure of a hidden test is just "failed"
            results.append({"name": name, "error": True})
    return results


def _qb_fragment_label(filename):
    """Students read "your code"; authors (the reference, a listed mistake) read the cell's own name."""
    return "your code" if filename == "<answer>" else f"the {filename.strip('<>')} cell"


def _qb_describe_error(exc, region_start, region_length, filename):
    where = None
    for frame, lineno in _qb_traceback.walk_tb(exc.__traceback__):
        if frame.f_code.co_filename == filename:
            if region_start <= lineno < region_start + region_length:
                where = f"line {lineno - region_start + 1} of {_qb_fragment_label(filename)}"
            else:
                where = f"line {lineno} of the {'program' if filename == '<answer>' else 'scaffold'}"
    text = f"{type(exc).__name__}: {exc}"[:500]
    return text + (f" ({where})" if where else "")
