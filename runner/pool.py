"""The warm pool: one zygote per slot, a bounded number of waiting submitters, lazy per-process start.

`get_pool()` returns the pool of the *current* process. A Django or Celery process that forks (prefork
workers) must not share the parent's zygotes: pipes to one zygote cannot be multiplexed across processes.
A forked child therefore drops what it inherited and starts its own zygotes on first use.
"""

from __future__ import annotations

import atexit
import json
import logging
import os
import queue
import threading
import time
from dataclasses import asdict, replace
from typing import Any

from runner.jobs import Job, JobResult, Limits
from runner.confinement import confinement_problems
from runner.launch import PROJECT_DIR, LaunchPlan, RunnerSettings, canary, fallback_plan, sandbox_plan
from runner.zygote_process import ZygoteFailure, ZygoteProcess

logger = logging.getLogger(__name__)

# Seconds the supervisor waits beyond the job's wall limit before declaring its zygote stuck: the zygote
# enforces the wall limit itself and needs a moment to kill and reap.
ZYGOTE_GRACE_SECONDS = 5.0
DEFAULT_QUEUE_LIMIT = 1000
REFUSED_POOL_RETRY_SECONDS = 60.0
CLOSE_GRACE_SECONDS = 1.0  # an idle zygote exits on EOF in milliseconds; a busy one is killed after this
DEFAULT_QUEUE_WAIT_SECONDS = 600.0
# No job, whoever wrote it, may ask for more than this.
MAXIMUM_LIMITS = Limits(
    cpu_seconds=120.0,
    wall_seconds=300.0,
    memory_mb=2048,
    processes=64,
    file_size_mb=256,
    open_files=1024,
    output_kb=16 * 1024,
)


class Slot:
    """One zygote and the lock that serialises its (re)starts."""

    def __init__(self, zygote: ZygoteProcess) -> None:
        self.zygote = zygote
        self.lock = threading.Lock()
        self.start_error: str | None = None

    def ensure_started(self) -> bool:
        with self.lock:
            if self.zygote.alive:
                return True
            try:
                self.zygote.start()
                self.start_error = None
                return True
            except (ZygoteFailure, OSError) as problem:
                self.start_error = str(problem)
                logger.error("could not start %s: %s", self.zygote.name, problem)
                return False

    def restart_in_background(self) -> None:
        def restart() -> None:
            with self.lock:
                self.zygote.stop()
            self.ensure_started()

        threading.Thread(target=restart, name=f"{self.zygote.name}-restart", daemon=True).start()


class Pool:
    def __init__(
        self,
        size: int,
        plan: LaunchPlan,
        queue_limit: int = DEFAULT_QUEUE_LIMIT,
        queue_wait_seconds: float = DEFAULT_QUEUE_WAIT_SECONDS,
    ) -> None:
        self.size = size
        self.plan = plan
        self.queue_wait_seconds = queue_wait_seconds
        self.queue_limit = queue_limit
        self.owner_pid = os.getpid()
        self.created = time.monotonic()
        self._pending = threading.BoundedSemaphore(size + queue_limit)
        self._idle: queue.Queue[Slot] = queue.Queue()
        self.slots: list[Slot] = []
        if plan.launcher is not None:
            self.slots = [Slot(ZygoteProcess(plan.launcher, f"zygote-{index}")) for index in range(size)]
            for slot in self.slots:
                self._idle.put(slot)
            self._warm_up()

    def _warm_up(self) -> None:
        threads = [threading.Thread(target=slot.ensure_started, daemon=True) for slot in self.slots]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

    def submit(self, job: Job) -> JobResult:
        refusal = self.plan.refusal_for(job)
        if refusal:
            return JobResult(status="refused", message=refusal)
        request = _request_for(job)
        if not self._pending.acquire(blocking=False):
            return JobResult(
                status="refused", message=f"the runner is overloaded: {self.queue_limit} jobs are waiting"
            )
        try:
            try:
                slot = self._idle.get(timeout=self.queue_wait_seconds)
            except queue.Empty:
                return JobResult(status="refused", message="no sandbox became free in time")
            try:
                return self._run_on(slot, request)
            finally:
                self._idle.put(slot)
        finally:
            self._pending.release()

    def _run_on(self, slot: Slot, request: dict[str, Any]) -> JobResult:
        if not slot.ensure_started():
            return JobResult(status="refused", message=f"the sandbox could not start: {slot.start_error}")
        wall = float(request["limits"]["wall_seconds"])
        started = time.monotonic()
        try:
            answer = slot.zygote.run(request, timeout=wall + ZYGOTE_GRACE_SECONDS)
        except ZygoteFailure as problem:
            logger.warning("%s failed during a job, restarting it: %s", slot.zygote.name, problem)
            slot.restart_in_background()
            elapsed = time.monotonic() - started
            if elapsed >= wall:
                return JobResult(
                    status="timeout",
                    wall_ms=elapsed * 1000,
                    message=f"killed after {wall:g} s wall time (the sandbox stopped answering)",
                )
            return JobResult(
                status="killed",
                wall_ms=elapsed * 1000,
                message=f"the sandbox process died during the job: {problem}",
            )
        return JobResult.from_json(answer)

    def worth_retrying(self) -> bool:
        """A pool that refuses everything looks at the machine again now and then (someone may fix it)."""
        return self.plan.launcher is None and time.monotonic() - self.created > REFUSED_POOL_RETRY_SECONDS

    def memory_mb(self) -> tuple[float, float]:
        """(RSS, PSS) of the zygotes and their sandbox processes; PSS counts pages they share once."""
        rss_kb = pss_kb = 0
        for slot in self.slots:
            for pid in slot.zygote.host_pids():
                try:
                    with open(f"/proc/{pid}/smaps_rollup") as rollup:
                        for line in rollup:
                            if line.startswith("Rss:"):
                                rss_kb += int(line.split()[1])
                            elif line.startswith("Pss:"):
                                pss_kb += int(line.split()[1])
                except OSError:
                    continue
        return rss_kb / 1024, pss_kb / 1024

    def close(self) -> None:
        for slot in self.slots:
            with slot.lock:
                slot.zygote.stop(grace_seconds=CLOSE_GRACE_SECONDS)

    def abandon(self) -> None:
        for slot in self.slots:
            slot.zygote.abandon()


def _request_for(job: Job) -> dict[str, Any]:
    request = job.to_json()
    request["limits"] = asdict(_clamped(job.limits))
    try:
        json.dumps(request["inputs"], allow_nan=True)
    except (TypeError, ValueError) as problem:
        raise TypeError(f"Job.inputs must be plain JSON data: {problem}") from problem
    return request


def _clamped(limits: Limits) -> Limits:
    values = {}
    for name in limits.__dataclass_fields__:
        asked, ceiling = getattr(limits, name), getattr(MAXIMUM_LIMITS, name)
        values[name] = min(max(asked, 0), ceiling)
    return replace(limits, **values)


_pool: Pool | None = None
_pool_lock = threading.Lock()


def get_pool() -> Pool:
    global _pool
    pool = _pool
    if pool is not None and pool.owner_pid == os.getpid() and not pool.worth_retrying():
        return pool
    with _pool_lock:
        if _pool is not None and _pool.owner_pid != os.getpid():
            _pool.abandon()
            _pool = None
        if _pool is not None and _pool.worth_retrying():
            _pool.close()
            _pool = None
        if _pool is None:
            _pool = _pool_from_settings()
        return _pool


def shutdown_pool() -> None:
    """Stop this process's zygotes (tests, and process exit)."""
    global _pool
    with _pool_lock:
        if _pool is not None and _pool.owner_pid == os.getpid():
            _pool.close()
        _pool = None


def _pool_from_settings() -> Pool:
    from django.conf import settings

    return build_pool(
        RunnerSettings(
            pool_size=int(getattr(settings, "RUNNER_POOL_SIZE", 0) or 0) or (os.cpu_count() or 1),
            queue_limit=int(getattr(settings, "RUNNER_QUEUE_LIMIT", DEFAULT_QUEUE_LIMIT)),
            sandbox_uid=int(getattr(settings, "RUNNER_SANDBOX_UID", 0) or 0),
            allow_unsandboxed_templates=bool(getattr(settings, "RUNNER_ALLOW_UNSANDBOXED_TEMPLATES", False)),
            sandbox_memory_mb=int(getattr(settings, "RUNNER_SANDBOX_MEMORY_MB", 3072)),
        )
    )


def build_pool(config: RunnerSettings) -> Pool:
    """A sandboxed pool that passed its confinement self-check, or the fallback the settings allow."""
    from runner.sandbox import FIX_HINT, SandboxUnavailable

    marker = canary()
    try:
        plan = sandbox_plan(config.sandbox_uid, config.sandbox_memory_mb)
        logger.info("starting the runner pool: %d zygote(s), %s", config.pool_size, plan.description)
        pool = Pool(size=config.pool_size, plan=plan, queue_limit=config.queue_limit)
        problems = confinement_problems(pool, str(PROJECT_DIR), marker)
        if not problems:
            return pool
        pool.close()
        raise SandboxUnavailable(
            f"the sandbox failed its confinement self-check: {'; '.join(problems)}. {FIX_HINT}"
        )
    except SandboxUnavailable as reason:
        plan = fallback_plan(str(reason), config.allow_unsandboxed_templates)
        return Pool(size=config.pool_size if plan.launcher else 0, plan=plan, queue_limit=config.queue_limit)


def _forget_inherited_pool() -> None:
    global _pool, _pool_lock
    _pool_lock = threading.Lock()  # the parent may have held it while forking
    if _pool is not None:
        _pool.abandon()
        _pool = None


os.register_at_fork(after_in_child=_forget_inherited_pool)


def _close_at_exit() -> None:
    if _pool is not None and _pool.owner_pid == os.getpid():
        _pool.close()


atexit.register(_close_at_exit)
