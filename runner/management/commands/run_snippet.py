"""Run a file as student code in the sandbox and show the result."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from runner.api import Cell, Job, Limits, execute


class Command(BaseCommand):
    help = "Run FILE as student code (sandboxed, never trusted) and print the result."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path)
        parser.add_argument(
            "--timeout",
            type=float,
            default=Limits.wall_seconds,
            help="wall-clock limit in seconds (also caps CPU time)",
        )
        parser.add_argument("--memory", type=int, default=Limits.memory_mb, help="address-space limit in MB")
        parser.add_argument("--json", action="store_true", help="print the JobResult as one JSON object")

    def handle(self, *args: Any, **options: Any) -> None:
        path: Path = options["file"]
        try:
            source = path.read_text(encoding="utf-8")
        except OSError as problem:
            raise CommandError(f"cannot read {path}: {problem}") from problem
        timeout = options["timeout"]
        limits = Limits(
            wall_seconds=timeout, cpu_seconds=min(Limits.cpu_seconds, timeout), memory_mb=options["memory"]
        )
        result = execute(Job(cells=(Cell(path.name, source),), limits=limits, trusted=False))
        if options["json"]:
            # allow_nan: NaN/Infinity are valid for Python readers, which is who consumes this.
            self.stdout.write(json.dumps(result.to_json(), allow_nan=True))
            return
        self.stdout.write(result.stdout, ending="")
        self.stderr.write(result.stderr, ending="")
        if not result.ok:
            detail = result.error.traceback if result.error else ""
            raise CommandError(f"{result.status}: {result.message}\n{detail}".rstrip())
