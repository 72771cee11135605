"""What splitting a code-completion grading into two runner jobs (visible tests, hidden tests) costs.

    .venv/bin/python benchmarks/completion_grading_jobs.py [--repeat 20] [--template bank/lecture-03/sgd-step-completion.ipynb]

Times, on the warm sandboxed pool, the visible job alone, the hidden job alone, and grade_completion (both,
one after the other) for the reference answer, after a warm-up. Reports medians; prints a Markdown section
for docs/benchmarks.md.
"""
from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django  # noqa: E402

django.setup()

from quizbank.completion import grade_completion  # noqa: E402
from quizbank.engine import build_hidden_job, build_visible_job, generate  # noqa: E402
from quizbank.notebooks import read_notebook  # noqa: E402
from runner.api import execute  # noqa: E402


def median_ms(run: Callable[[], object], repeat: int) -> tuple[float, float]:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        run()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times), min(times)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--template", default=str(ROOT / "bank/lecture-03/sgd-step-completion.ipynb"))
    args = parser.parse_args()
    spec = read_notebook(Path(args.template))
    variant = generate(spec, 1)
    code = variant.key["reference"]
    for _ in range(3):  # warm-up: zygotes started, pages touched
        grade_completion(spec, 1, variant.key["expected_tests"], code)
    rows = [
        ("visible job (public tests)", median_ms(lambda: execute(build_visible_job(spec, 1, code)), args.repeat)),
        ("hidden job (hidden tests)", median_ms(lambda: execute(build_hidden_job(spec, 1, code)), args.repeat)),
        ("grade_completion (both jobs)",
         median_ms(lambda: grade_completion(spec, 1, variant.key["expected_tests"], code), args.repeat)),
    ]
    print(f"### Code-completion grading: two jobs ({spec.slug}, {platform.processor() or platform.machine()}, "
          f"{os.cpu_count()} cores, {args.repeat} runs)\n")
    print("| what | median ms | fastest ms |\n|---|---|---|")
    for name, (median, fastest) in rows:
        print(f"| {name} | {median:.1f} | {fastest:.1f} |")


if __name__ == "__main__":
    main()
