"""What crosses the runner's boundary: a Job (cells, inputs, exports, limits) and its JobResult, as plain
JSON-able data. runner.api.execute runs them; the pool, the launcher and the confinement check build on these
types without importing the entry point."""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal

Status = Literal["ok", "error", "timeout", "memory", "output_limit", "killed", "refused"]


@dataclass(frozen=True)
class Limits:
    cpu_seconds: float = 5.0
    wall_seconds: float = 10.0
    memory_mb: int = 768  # address space; measured: torch at 1 thread runs small ops in 768 MB
    processes: int = 16  # threads count against this
    file_size_mb: int = 8
    open_files: int = 64
    output_kb: int = 256  # stdout + stderr together

    def merged(self, overrides: dict[str, Any] | None) -> "Limits":
        if not overrides:
            return self
        known = {key: value for key, value in overrides.items() if key in self.__dataclass_fields__}
        return Limits(**{**asdict(self), **known})


@dataclass(frozen=True)
class Cell:
    name: str
    source: str


@dataclass(frozen=True)
class Job:
    cells: tuple[Cell, ...]
    inputs: dict[str, Any] = field(default_factory=dict)
    exports: tuple[str, ...] = ()
    limits: Limits = Limits()
    # Template code is written by staff; student code by anyone. Only template code may ever fall back to
    # running unsandboxed, and only with the development-only setting RUNNER_ALLOW_UNSANDBOXED_TEMPLATES.
    trusted: bool = False

    def to_json(self) -> dict[str, Any]:
        return {
            "cells": [{"name": cell.name, "source": cell.source} for cell in self.cells],
            "inputs": self.inputs,
            "exports": list(self.exports),
            "limits": asdict(self.limits),
            "trusted": self.trusted,
        }


@dataclass(frozen=True)
class JobError:
    type: str  # exception class name, e.g. "ZeroDivisionError"
    message: str
    cell: str | None  # the cell the error happened in (the innermost frame in a job cell)
    line: int | None  # line number within that cell, 1-based
    traceback: str  # formatted with the job's own frames only (no runner internals)


@dataclass(frozen=True)
class JobResult:
    status: Status
    stdout: str = ""
    stderr: str = ""
    exports: dict[str, Any] = field(default_factory=dict)
    error: JobError | None = None
    wall_ms: float = 0.0
    cpu_ms: float = 0.0
    message: str = ""  # human explanation for non-ok statuses (e.g. "killed after 10.0 s wall time")

    @property
    def ok(self) -> bool:
        return self.status == "ok"

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "JobResult":
        error = data.get("error")
        return cls(
            status=data["status"],
            stdout=data.get("stdout", ""),
            stderr=data.get("stderr", ""),
            exports=data.get("exports") or {},
            error=JobError(**error) if error else None,
            wall_ms=float(data.get("wall_ms", 0.0)),
            cpu_ms=float(data.get("cpu_ms", 0.0)),
            message=data.get("message", ""),
        )
