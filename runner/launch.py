"""Decides how zygotes start on this machine: inside the bubblewrap sandbox after it passed its
confinement self-check; or (development only, template code only) as plain processes; or not at all."""

from __future__ import annotations

import logging
import os
import secrets
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from runner.jobs import Job
from runner.zygote_process import LaunchSpec

logger = logging.getLogger(__name__)

PROJECT_DIR = Path(__file__).resolve().parent.parent
CANARY_VARIABLE = "DLQUIZ_RUNNER_CANARY"
STUDENT_CODE_REFUSAL = "student code never runs outside the sandbox"


@dataclass(frozen=True)
class LaunchPlan:
    launcher: Callable[[], LaunchSpec] | None
    sandboxed: bool
    description: str
    refusal: str = ""  # why jobs that need the sandbox are refused ("" when the sandbox works)

    def refusal_for(self, job: Job) -> str:
        if self.launcher is None:
            return self.refusal
        if not self.sandboxed and not job.trusted:
            return f"{STUDENT_CODE_REFUSAL}: {self.refusal}" if self.refusal else STUDENT_CODE_REFUSAL
        return ""


@dataclass(frozen=True)
class RunnerSettings:
    pool_size: int
    queue_limit: int
    sandbox_uid: int
    allow_unsandboxed_templates: bool
    sandbox_memory_mb: int = 3072  # the memory cgroup cap of one sandbox: zygote + job + all it forks


def unsandboxed_launch_spec() -> LaunchSpec:
    return LaunchSpec(
        argv=[sys.executable, "-m", "runner.zygote"],
        env={"PATH": "/usr/local/bin:/usr/bin:/bin", "LANG": "C.UTF-8", "HOME": "/nonexistent"},
        cwd=str(PROJECT_DIR),
        description="UNSANDBOXED zygote (development only, template code only)",
    )


def sandbox_plan(sandbox_uid: int, sandbox_memory_mb: int) -> LaunchPlan:
    from runner.cgroups import MemoryCgroup, cgroup_name
    from runner.sandbox import check_prerequisites, sandbox_launch_spec

    check_prerequisites(sandbox_uid)

    def launch() -> LaunchSpec:
        return sandbox_launch_spec(
            sandbox_uid, memory_cgroup=MemoryCgroup.create(cgroup_name(), sandbox_memory_mb)
        )

    probe = MemoryCgroup.create(cgroup_name(), sandbox_memory_mb)
    description = sandbox_launch_spec(sandbox_uid).description
    description += f", {sandbox_memory_mb} MB memory cgroup each" if probe else ", no memory cgroup"
    if probe:
        probe.remove()
    return LaunchPlan(launcher=launch, sandboxed=True, description=description)


def fallback_plan(reason: str, allow_unsandboxed_templates: bool) -> LaunchPlan:
    if allow_unsandboxed_templates:
        logger.critical(
            "RUNNER SANDBOX UNAVAILABLE: template code will run UNSANDBOXED because "
            "RUNNER_ALLOW_UNSANDBOXED_TEMPLATES is set (development only); student code is refused. "
            "Reason: %s",
            reason,
        )
        return LaunchPlan(
            launcher=unsandboxed_launch_spec,
            sandboxed=False,
            description=unsandboxed_launch_spec().description,
            refusal=reason,
        )
    logger.error("RUNNER SANDBOX UNAVAILABLE, refusing all jobs: %s", reason)
    return LaunchPlan(
        launcher=None, sandboxed=False, description="no sandbox: all jobs refused", refusal=reason
    )


def canary() -> str:
    """A marker placed in the supervisor's environment; the self-check fails if a job can see it."""
    return os.environ.setdefault(CANARY_VARIABLE, secrets.token_hex(16))
