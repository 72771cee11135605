"""How long it takes to generate a variant of every bank template: a cold process per variant (a fresh Python
that imports numpy and torch, then runs the template's cells — what a naive engine would do) against the
engine as it is (the runner's warm, sandboxed fork-server pool).

    .venv/bin/python benchmarks/variant_generation.py [--warm-seeds 20] [--cold-seeds 2] [--bank bank]

Prints a Markdown section for docs/benchmarks.md and, last, one JSON line with the totals.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django  # noqa: E402

django.setup()

from quizbank.engine import build_variant_job, generate  # noqa: E402
from quizbank.notebooks import find_notebooks, read_notebook  # noqa: E402

# The cold path: one fresh interpreter per variant, running the same cells the pool runs.
COLD_CHILD = r"""
import json, sys, time
start = time.perf_counter()
import numpy, torch
job = json.loads(sys.stdin.read())
namespace = dict(job["inputs"])
for cell in job["cells"]:
    exec(compile(cell["source"], "<cell %s>" % cell["name"], "exec"), namespace)
print(json.dumps({"ms": (time.perf_counter() - start) * 1000}))
"""


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def cold_variant_ms(spec, seed: int) -> float:
    job = build_variant_job(spec, seed).to_json()
    start = time.perf_counter()
    completed = subprocess.run([sys.executable, "-c", COLD_CHILD], input=json.dumps(job), capture_output=True,
                               text=True, env={"PATH": os.environ.get("PATH", ""), "OMP_NUM_THREADS": "1"})
    elapsed = (time.perf_counter() - start) * 1000
    if completed.returncode != 0:
        raise RuntimeError(f"{spec.slug} seed {seed}: cold run failed: {completed.stderr[-500:]}")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--bank", type=Path, default=ROOT / "bank")
    parser.add_argument("--warm-seeds", type=int, default=20)
    parser.add_argument("--cold-seeds", type=int, default=2)
    args = parser.parse_args()

    specs = [read_notebook(path) for path in find_notebooks(args.bank)]
    generate(specs[0], 0)  # start the pool outside the measurement
    rows = []
    all_warm: list[float] = []
    all_cold: list[float] = []
    started = time.perf_counter()
    for spec in specs:
        warm = []
        for seed in range(args.warm_seeds):
            t0 = time.perf_counter()
            generate(spec, seed, check=False)
            warm.append((time.perf_counter() - t0) * 1000)
        cold = [cold_variant_ms(spec, seed) for seed in range(args.cold_seeds)]
        all_warm += warm
        all_cold += cold
        rows.append((spec.slug, spec.kind, statistics.median(warm), percentile(warm, 0.95), statistics.median(cold)))
    total_s = time.perf_counter() - started

    warm_p50, cold_p50 = statistics.median(all_warm), statistics.median(all_cold)
    print(f"### Variant generation ({time.strftime('%Y-%m-%d')})\n")
    print(f"Machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
          f"{platform.platform()}. {len(specs)} templates, {args.warm_seeds} warm seeds and {args.cold_seeds} cold "
          f"seeds each, one variant at a time (no parallelism).\n")
    print("| template | kind | warm p50 ms | warm p95 ms | cold p50 ms | speed-up |")
    print("|---|---|---:|---:|---:|---:|")
    for slug, kind, w50, w95, c50 in rows:
        print(f"| {slug} | {kind} | {w50:.1f} | {w95:.1f} | {c50:.0f} | {c50 / w50:.0f}x |")
    print(f"| **all** | | **{warm_p50:.1f}** | **{percentile(all_warm, 0.95):.1f}** | **{cold_p50:.0f}** | "
          f"**{cold_p50 / warm_p50:.0f}x** |\n")
    print(json.dumps({"templates": len(specs), "warm_p50_ms": round(warm_p50, 2),
                      "warm_p95_ms": round(percentile(all_warm, 0.95), 2), "cold_p50_ms": round(cold_p50, 1),
                      "speedup": round(cold_p50 / warm_p50, 1), "wall_s": round(total_s, 1)}))


if __name__ == "__main__":
    main()
