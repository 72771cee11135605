"""The slowest answer a student can type: check() timed over the audit's adversarial inputs, families of
pathological inputs up to the response limit, and random text, for every answer format.

    .venv/bin/python benchmarks/checker_worst_case.py [--random 200] [--repeat 3]

Each input is timed `repeat` times and its fastest run kept (the machine may be shared); the table gives,
per format, the slowest input and the median over all inputs. Prints a Markdown section for
docs/benchmarks.md. quizbank.checking needs no Django.
"""
from __future__ import annotations

import argparse
import os
import platform
import random
import statistics
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from quizbank.checking import MAX_RESPONSE_CHARS, check  # noqa: E402

N = MAX_RESPONSE_CHARS
FORMATS: dict[str, tuple[dict[str, Any], dict[str, Any], dict[str, Any]]] = {
    "numeric": ({"kind": "short"}, {"answer": 3e-8}, {"format": "numeric"}),
    "numeric (percent)": ({"kind": "short"}, {"answer": 0.93}, {"format": "numeric", "percent": True}),
    "integer": ({"kind": "short"}, {"answer": 1000}, {"format": "integer"}),
    "shape": ({"kind": "short"}, {"answer": [3, 4]}, {"format": "shape"}),
    "text": ({"kind": "short"}, {"answer": ["rectified linear unit", "ReLU"]}, {"format": "text"}),
    "output": ({"kind": "output"}, {"answer": "torch.Size([2, 3])\n15"}, {}),
    "mcq": ({"kind": "mcq", "options": [{"text": t} for t in "abcd"]}, {"correct_index": 2}, {}),
    "completion": ({"kind": "completion", "starter": "return x\n"}, {}, {}),
    "manual": ({"kind": "short", "max_words": 250}, {"answer": ""}, {"format": "manual"}),
}

AUDIT = ["1x10^999", "1e400000", "1e1000000", "9" * 400 + "/1", "1" * 5000 + "/1", "2 × 10^400",
         "(" + "5" * 5000 + ")", "abc", "16,56", "(3,4", "1,1", "0,0", "1,000", "93%", "3.14 m",
         r"3\times10^{-8}", "torch.Size((3, 4))"]


def families() -> Iterator[tuple[str, str]]:
    """Inputs that stress one part of a reader each, just under each reader's own length limit (numbers 100,
    whole numbers 200, shapes 1,000 characters) and at the response limit."""
    for size in (99, 199, 999, N):
        for label, text in family(size):
            yield f"{label} ({size})", text


def family(size: int) -> Iterator[tuple[str, str]]:
    half = size // 2
    yield "digits", "1" * size
    yield "1e + digits", "1e" + "9" * (size - 2)
    yield "1e- + digits", "1e-" + "4" * (size - 3)
    yield "digits x10^ digits", "9" * half + "x10^" + "9" * (half - 4)
    yield "digits / digits", "9" * half + "/" + "9" * (half - 1)
    yield "thousands groups", "1" + ",000" * ((size - 1) // 4)
    yield "'1,' repeated", "1," * half
    yield "'1 ' repeated", "1 " * half
    yield "'(' repeated", "(" * size
    yield "balanced parens", "(" * half + ")" * half
    yield "'[1,' nested", "[1," * (size // 3)
    yield "long list", "(" + "1," * (half - 1) + ")"
    yield "torch.Size nest", "torch.Size(" * (size // 11)
    yield "'-' repeated, then 1", "-" * (size - 1) + "1"
    yield "1+1+...", "x = " + "1+" * ((size - 5) // 2) + "1"
    yield "a.a.a...", "a" + ".a" * ((size - 1) // 2)
    yield "'not ' repeated", "not " * (size // 4)
    yield "f-string nest", "f'{" * (size // 3)
    yield "'\"\"\"' repeated", '"""' * (size // 3)
    yield "lines of spaces", " \n" * half
    yield "newlines", "\n" * size
    yield "words", "w " * half
    yield "NFKC x18 (U+FDFD)", "\ufdfd" * size
    yield "combining accents", "e\u0301" * half
    yield "lone surrogates", "\ud800" * size
    yield "null bytes", "\x00" * size
    yield "superscripts", "1" + "⁻⁸" * half


def random_texts(count: int, seed: int = 0) -> Iterator[tuple[str, str]]:
    rng = random.Random(seed)
    alphabets = ["0123456789", "0123456789eE+-.,/%x^* ", "()[]{},x 0123456789-", "abcdefghij ()[]:=\n\t",
                 "".join(chr(c) for c in range(32, 0x3000, 7))]
    for i in range(count):
        alphabet = alphabets[i % len(alphabets)]
        size = rng.choice([10, 100, 1000, N])
        yield f"random {size} chars of alphabet {i % len(alphabets)}", "".join(rng.choice(alphabet) for _ in range(size))


def best_of(repeat: int, action: Callable[[], object]) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        action()
        times.append(time.perf_counter() - start)
    return min(times)


def machine() -> str:
    model = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{os.cpu_count()} cores, {model}, Python {platform.python_version()}"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--random", type=int, default=200)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    inputs = [(f"audit {text[:20]!r}", text) for text in AUDIT] + list(families()) + list(random_texts(args.random))
    print("## Worst-case answer checking\n")
    print(f"Script: `benchmarks/checker_worst_case.py --random {args.random} --repeat {args.repeat}`; "
          f"{len(inputs)} inputs per format. Machine: {machine()}.\n")
    print("| format | slowest input | slowest (ms) | median (ms) |")
    print("|---|---|---:|---:|")
    overall = 0.0
    for name, (public, key, config) in FORMATS.items():
        timings = [(best_of(args.repeat, lambda text=text: check(public, key, config, text)), label)
                   for label, text in inputs]
        worst, label = max(timings)
        overall = max(overall, worst)
        median = statistics.median(t for t, _ in timings)
        print(f"| {name} | {label} | {worst * 1e3:.2f} | {median * 1e3:.3f} |")
    print(f"\nSlowest check() of all: {overall * 1e3:.2f} ms.")


if __name__ == "__main__":
    main()
