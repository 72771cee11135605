"""The runner benchmark behind `python manage.py runner_bench`.

cold: a fresh sandboxed interpreter that imports numpy and torch for one tiny job (what we'd pay without the
pool). warm: one small torch job through the pool, end to end, one submitter. grading: jobs that each run
ten assert-based tests on a small torch function, submitted by many threads at once, pool at full width.
"""

from __future__ import annotations

import datetime
import os
import platform
import statistics
import subprocess
import threading
import time
from dataclasses import dataclass
from typing import Any

from runner.api import Cell, Job, JobResult, execute
from runner.pool import Pool, get_pool

COLD_PROGRAM = "import numpy, torch; torch.set_num_threads(1); print(float(torch.arange(4.0).sum()))"

WARM_CELLS = (
    Cell(
        "parameters",
        "import torch\ntorch.manual_seed(seed)\nweights = torch.randn(3, 4)\nbias = torch.randn(3)",
    ),
    Cell("answer", "x = torch.ones(4)\nanswer = (weights @ x + bias).relu()"),
)

GRADING_CELLS = (
    Cell(
        "student",
        "import torch\n\ndef softmax(logits, dim=-1):\n"
        "    shifted = logits - logits.max(dim=dim, keepdim=True).values\n"
        "    exps = shifted.exp()\n    return exps / exps.sum(dim=dim, keepdim=True)\n",
    ),
    Cell(
        "tests",
        """
import torch
def test_sums_to_one(): assert torch.allclose(softmax(torch.randn(4, 5)).sum(-1), torch.ones(4))
def test_shape(): assert softmax(torch.randn(2, 3, 4)).shape == (2, 3, 4)
def test_uniform(): assert torch.allclose(softmax(torch.zeros(5)), torch.full((5,), 0.2))
def test_large_values(): assert torch.isfinite(softmax(torch.tensor([1000.0, 1001.0]))).all()
def test_matches_torch(): x = torch.randn(3, 7); assert torch.allclose(softmax(x), x.softmax(-1), atol=1e-6)
def test_dim0(): x = torch.randn(3, 7); assert torch.allclose(softmax(x, 0), torch.softmax(x, 0), atol=1e-6)
def test_order(): assert softmax(torch.tensor([1.0, 2.0, 3.0])).argmax() == 2
def test_positive(): assert (softmax(torch.randn(10)) > 0).all()
def test_shift_invariant(): x = torch.randn(6); assert torch.allclose(softmax(x), softmax(x + 5), atol=1e-6)
def test_dtype(): assert softmax(torch.randn(3, dtype=torch.float64)).dtype == torch.float64
passed = 0
for name, test in sorted(globals().items()):
    if name.startswith('test_'):
        torch.manual_seed(len(name))
        test()
        passed += 1
""",
    ),
)


@dataclass(frozen=True)
class BenchOptions:
    cold_runs: int = 5
    warm_jobs: int = 300
    grading_jobs: int = 600
    submitters: int = 16


def run_benchmark(options: BenchOptions) -> dict[str, Any]:
    pool = get_pool()
    if not pool.plan.sandboxed:
        raise RuntimeError(f"the sandbox is not available: {pool.plan.refusal}")
    load_before = os.getloadavg()[0]
    for _ in range(2 * pool.size):  # first fork of each zygote faults pages in; not what we measure
        _checked(execute(Job(cells=WARM_CELLS, inputs={"seed": 0}, exports=("answer",))))
    cpu_before = _cpu_seconds(pool)
    warm = _warm_latencies(options.warm_jobs)
    warm_cpu_ms = (_cpu_seconds(pool) - cpu_before) * 1000 / max(1, options.warm_jobs)
    cpu_before = _cpu_seconds(pool)
    grading_rate = _grading_jobs_per_second(options.grading_jobs, options.submitters)
    grading_cpu_ms = (_cpu_seconds(pool) - cpu_before) * 1000 / max(1, options.grading_jobs)
    rss_mb, pss_mb = pool.memory_mb()
    cold = _cold_latencies(options.cold_runs)
    cold_p50, warm_p50 = statistics.median(cold), statistics.median(warm)
    return {
        "cold_p50_ms": round(cold_p50, 1),
        "warm_p50_ms": round(warm_p50, 2),
        "warm_p95_ms": round(_percentile(warm, 95), 2),
        "cold_over_warm": round(cold_p50 / warm_p50, 1),
        "grading_jobs_per_s": round(grading_rate, 1),
        # CPU spent per job by the supervisor, zygotes and jobs together: what the figures would be on an
        # otherwise idle machine is cores * 1000 / cpu_ms (the shared benchmark machine is rarely idle).
        "warm_cpu_ms_per_job": round(warm_cpu_ms, 2),
        "grading_cpu_ms_per_job": round(grading_cpu_ms, 2),
        "grading_capacity_jobs_per_s": round((os.cpu_count() or 1) * 1000 / grading_cpu_ms, 1),
        "pool_rss_mb": round(rss_mb, 1),
        "pool_pss_mb": round(pss_mb, 1),
        "pool_size": pool.size,
        "sandbox": pool.plan.description,
        "runs": {
            "cold": len(cold),
            "warm": len(warm),
            "grading": options.grading_jobs,
            "submitters": options.submitters,
        },
        "machine": {
            "cores": os.cpu_count(),
            "python": platform.python_version(),
            "kernel": platform.release(),
            "load_average_1min_before": round(load_before, 2),
            "load_average_1min_after": round(os.getloadavg()[0], 2),
        },
        "date": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
    }


def _warm_latencies(count: int) -> list[float]:
    latencies = []
    for seed in range(count):
        started = time.perf_counter()
        _checked(execute(Job(cells=WARM_CELLS, inputs={"seed": seed}, exports=("answer",))))
        latencies.append((time.perf_counter() - started) * 1000)
    return latencies


def _grading_jobs_per_second(count: int, submitters: int) -> float:
    remaining = iter(range(count))
    lock = threading.Lock()
    failures: list[JobResult] = []

    def submit_until_done() -> None:
        while True:
            with lock:
                if next(remaining, None) is None:
                    return
            result = execute(Job(cells=GRADING_CELLS, exports=("passed",)))
            if not result.ok or result.exports.get("passed") != 10:
                failures.append(result)

    threads = [threading.Thread(target=submit_until_done) for _ in range(submitters)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    if failures:
        raise RuntimeError(f"{len(failures)} grading jobs failed, e.g. {failures[0]}")
    return count / elapsed


def _cold_latencies(count: int) -> list[float]:
    from django.conf import settings

    from runner.sandbox import sandbox_launch_spec

    latencies = []
    for _ in range(count):
        spec = sandbox_launch_spec(
            int(getattr(settings, "RUNNER_SANDBOX_UID", 0) or 0), python_args=("-E", "-s", "-c", COLD_PROGRAM)
        )
        started = time.perf_counter()
        completed = subprocess.run(spec.argv, env=spec.env, capture_output=True, text=True, timeout=120)
        latencies.append((time.perf_counter() - started) * 1000)
        if completed.stdout.strip() != "6.0":
            raise RuntimeError(f"the cold sandboxed run failed: {completed.stderr[-2000:]}")
    return latencies


def _cpu_seconds(pool: Pool) -> float:
    """CPU time of this process plus every zygote and its reaped jobs, in seconds."""
    own = os.times()
    total = own.user + own.system
    ticks = os.sysconf("SC_CLK_TCK")
    for slot in pool.slots:
        for pid in slot.zygote.host_pids():
            try:
                with open(f"/proc/{pid}/stat") as stat:
                    fields = stat.read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            total += sum(int(value) for value in fields[11:15]) / ticks  # utime stime cutime cstime
    return total


def _percentile(values: list[float], percent: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(percent / 100 * len(ordered)) - 1))
    return ordered[index]


def _checked(result: JobResult) -> JobResult:
    if not result.ok:
        raise RuntimeError(f"a benchmark job failed: {result}")
    return result
