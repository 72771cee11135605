"""Fail closed: without a working sandbox, jobs are refused with a message saying how to fix the machine."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest

import runner.pool
import runner.sandbox
from runner.api import Cell, Job
from runner.launch import RunnerSettings
from runner.pool import Pool, build_pool

STUDENT_JOB = Job(cells=(Cell("answer", "x = 1"),), exports=("x",))
TEMPLATE_JOB = Job(cells=(Cell("parameters", "x = 2"),), exports=("x",), trusted=True)


@pytest.fixture
def pools() -> Iterator[list[Pool]]:
    created: list[Pool] = []
    yield created
    for pool in created:
        pool.close()


def make_pool(pools: list[Pool], allow_unsandboxed_templates: bool = False) -> Pool:
    pool = build_pool(
        RunnerSettings(
            pool_size=1, queue_limit=4, sandbox_uid=0, allow_unsandboxed_templates=allow_unsandboxed_templates
        )
    )
    pools.append(pool)
    return pool


@pytest.fixture
def bubblewrap_missing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(runner.sandbox.shutil, "which", lambda *args, **kwargs: None)


def test_without_bubblewrap_every_job_is_refused_with_the_fix(
    bubblewrap_missing: None, pools: list[Pool]
) -> None:
    pool = make_pool(pools)
    for job in (STUDENT_JOB, TEMPLATE_JOB):
        result = pool.submit(job)
        assert result.status == "refused"
        assert "apt-get install bubblewrap" in result.message
        assert "scripts/setup.sh" in result.message


def test_template_code_runs_unsandboxed_only_with_the_development_setting_and_loudly(
    bubblewrap_missing: None, pools: list[Pool], caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.CRITICAL, logger="runner.launch"):
        pool = make_pool(pools, allow_unsandboxed_templates=True)
    assert any("UNSANDBOXED" in record.getMessage() for record in caplog.records)
    template = pool.submit(TEMPLATE_JOB)
    assert template.status == "ok", template
    assert template.exports == {"x": 2}
    student = pool.submit(STUDENT_JOB)
    assert student.status == "refused"
    assert "student code never runs outside the sandbox" in student.message


def test_a_missing_sandbox_user_is_refused_with_the_fix(
    monkeypatch: pytest.MonkeyPatch, pools: list[Pool]
) -> None:
    def no_such_user(name: str) -> None:
        raise KeyError(name)

    monkeypatch.setattr(runner.sandbox.pwd, "getpwnam", no_such_user)
    monkeypatch.setattr(runner.sandbox.os, "geteuid", lambda: 0)
    result = make_pool(pools).submit(STUDENT_JOB)
    assert result.status == "refused"
    assert "dlquiz-sandbox" in result.message and "scripts/setup.sh" in result.message


def test_a_failed_confinement_self_check_refuses_every_job(
    monkeypatch: pytest.MonkeyPatch, pools: list[Pool]
) -> None:
    monkeypatch.setattr(runner.pool, "confinement_problems", lambda *args: ["jobs run as uid 0"])
    pool = make_pool(pools)
    assert pool.slots == []
    for job in (STUDENT_JOB, TEMPLATE_JOB):
        result = pool.submit(job)
        assert result.status == "refused"
        assert "confinement self-check" in result.message and "jobs run as uid 0" in result.message


def test_the_real_sandbox_passes_its_confinement_self_check(pools: list[Pool]) -> None:
    pool = make_pool(pools)
    assert pool.plan.sandboxed, pool.plan.refusal
    assert pool.submit(STUDENT_JOB).exports == {"x": 1}
