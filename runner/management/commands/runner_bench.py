"""Measure the runner: cold vs warm start, grading throughput, memory. Prints one JSON object."""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from runner.bench import BenchOptions, run_benchmark


class Command(BaseCommand):
    help = "Benchmark the sandboxed warm pool and print one JSON object."

    def add_arguments(self, parser: CommandParser) -> None:
        defaults = BenchOptions()
        parser.add_argument("--cold-runs", type=int, default=defaults.cold_runs)
        parser.add_argument("--warm-jobs", type=int, default=defaults.warm_jobs)
        parser.add_argument("--grading-jobs", type=int, default=defaults.grading_jobs)
        parser.add_argument("--submitters", type=int, default=defaults.submitters)

    def handle(self, *args: Any, **options: Any) -> None:
        figures = run_benchmark(
            BenchOptions(
                cold_runs=options["cold_runs"],
                warm_jobs=options["warm_jobs"],
                grading_jobs=options["grading_jobs"],
                submitters=options["submitters"],
            )
        )
        self.stdout.write(json.dumps(figures))
