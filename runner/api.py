"""The one entry point for running untrusted code: instructors' template code and students' code alike.

Nothing else in the project may exec/eval/import code that came from a template or a student; it builds a
`Job` and calls `execute(job)`. Everything that crosses the boundary is JSON: no pickle, no live objects.

A job is a list of cells run in order in one fresh namespace (the `inputs` are bound as variables first).
Each cell is compiled with the filename ``<cell NAME>`` so that an error names the author's own cell and
line. When the cells finish, the names listed in `exports` are taken from the namespace and converted to
JSON (numpy/torch scalars and arrays become numbers and nested lists, tuples become lists); a value that
cannot be converted is an `error` result naming the export.
"""
from __future__ import annotations

from runner.jobs import Cell, Job, JobError, JobResult, Limits, Status
from runner.pool import get_pool

__all__ = ["Cell", "Job", "JobError", "JobResult", "Limits", "Status", "execute"]


def execute(job: Job) -> JobResult:
    """Run one job in the warm sandboxed pool and wait for its result (blocking; call from workers,
    management commands and admin actions, never from a student's web request)."""
    return get_pool().submit(job)
