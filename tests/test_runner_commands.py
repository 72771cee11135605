"""The runner's management commands: run_snippet and runner_bench."""

from __future__ import annotations

import json
import math
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command


def run_snippet(tmp_path: Path, source: str, *options: str) -> dict:
    snippet = tmp_path / "snippet.py"
    snippet.write_text(source)
    out = StringIO()
    call_command("run_snippet", str(snippet), "--json", *options, stdout=out)
    return json.loads(out.getvalue())


def test_run_snippet_prints_the_job_result_as_json(tmp_path: Path) -> None:
    result = run_snippet(
        tmp_path, "import torch\nprint(torch.arange(3).tolist())\nimport os\nprint(os.getuid())"
    )
    assert result["status"] == "ok"
    printed, uid = result["stdout"].splitlines()
    assert printed == "[0, 1, 2]"
    assert uid != "0"  # student code: always the sandbox
    assert set(result) >= {"status", "stdout", "stderr", "exports", "error", "wall_ms", "cpu_ms", "message"}


def test_run_snippet_names_the_file_and_line_of_an_error(tmp_path: Path) -> None:
    result = run_snippet(tmp_path, "x = 1\ny = x / 0\n")
    assert result["status"] == "error"
    assert (result["error"]["cell"], result["error"]["line"]) == ("snippet.py", 2)


def test_run_snippet_applies_the_timeout_option(tmp_path: Path) -> None:
    result = run_snippet(tmp_path, "import time\ntime.sleep(30)", "--timeout", "1")
    assert result["status"] == "timeout"


def test_run_snippet_applies_the_memory_option(tmp_path: Path) -> None:
    result = run_snippet(tmp_path, "block = bytearray(600 * 1024 * 1024)", "--memory", "300")
    assert result["status"] == "memory"


def test_run_snippet_without_json_shows_output_and_fails_on_error(tmp_path: Path) -> None:
    snippet = tmp_path / "broken.py"
    snippet.write_text("print('before')\nraise ValueError('bad input')\n")
    out = StringIO()
    with pytest.raises(CommandError, match="ValueError: bad input"):
        call_command("run_snippet", str(snippet), stdout=out, stderr=StringIO())
    assert out.getvalue() == "before\n"


def test_runner_bench_prints_one_json_object_with_the_figures() -> None:
    out = StringIO()
    call_command(
        "runner_bench",
        "--cold-runs",
        "1",
        "--warm-jobs",
        "5",
        "--grading-jobs",
        "8",
        "--submitters",
        "4",
        stdout=out,
    )
    figures = json.loads(out.getvalue())
    for key in ("cold_p50_ms", "warm_p50_ms", "warm_p95_ms", "grading_jobs_per_s", "pool_rss_mb"):
        assert isinstance(figures[key], (int, float)) and math.isfinite(figures[key]) and figures[key] > 0, (
            key
        )
    assert figures["cold_p50_ms"] > figures["warm_p50_ms"]
