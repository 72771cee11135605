"""The template commands authors and CI use: preview, self-test, list."""
from __future__ import annotations

import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from quizbank import services
from quizbank.notebooks import write_notebook
from tests.specs import CONV_MCQ, SOFTMAX_SHORT, edited


def run(*args) -> str:
    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def test_preview_of_a_notebook_prints_one_json_object_with_the_answer_and_its_index(tmp_path):
    path = tmp_path / "conv.ipynb"
    write_notebook(CONV_MCQ, path)
    data = json.loads(run("preview_template", str(path), "--seed", "3", "--json"))
    assert data["kind"] == "mcq" and data["seed"] == 3
    assert data["options"][data["answer_index"]] == data["answer"]
    params = data["params"]
    assert data["answer"] == str((params["h"] + 2 * params["p"] - params["k"]) // params["s"] + 1)
    assert "Output height" in data["stem"]


@pytest.mark.django_db
def test_preview_by_slug_reads_the_saved_template():
    services.save_spec(SOFTMAX_SHORT)
    data = json.loads(run("preview_template", "test-softmax-short", "--seed", "1", "--json"))
    assert data["kind"] == "short" and isinstance(data["answer"], float) and data["options"] is None


@pytest.mark.django_db
def test_preview_of_an_unknown_slug_is_a_clear_error():
    with pytest.raises(CommandError, match="no template with slug 'nope'"):
        run("preview_template", "nope", "--json")


def test_selftest_passes_good_templates_and_ends_with_the_totals_line(tmp_path):
    write_notebook(CONV_MCQ, tmp_path / "a.ipynb")
    write_notebook(SOFTMAX_SHORT, tmp_path / "b.ipynb")
    output = run("selftest_templates", str(tmp_path), "--seeds", "8")
    assert output.strip().splitlines()[-1].startswith("2 templates, 16 variants, 0 failures")


def test_selftest_exits_non_zero_and_counts_failures_for_a_broken_template(tmp_path):
    write_notebook(edited(SOFTMAX_SHORT, solution="answer = 1 / (seed % 2)\n"), tmp_path / "b.ipynb")
    out = StringIO()
    with pytest.raises(CommandError) as caught:
        call_command("selftest_templates", str(tmp_path), "--seeds", "4", stdout=out)
    assert caught.value.returncode == 1
    assert out.getvalue().strip().splitlines()[-1] == "1 templates, 2 variants, 1 failures"
    assert "ZeroDivisionError" in out.getvalue() and "solution, line 1" in out.getvalue()


@pytest.mark.django_db
def test_list_templates_prints_slug_type_kind_lectures_and_tags():
    services.save_spec(CONV_MCQ)
    services.save_spec(SOFTMAX_SHORT)
    rows = json.loads(run("list_templates", "--json"))
    assert {r["slug"]: (r["type"], r["kind"], r["lectures"], r["tags"]) for r in rows} == {
        "test-conv-mcq": ("mcq", "mcq", [8], ["cnn"]),
        "test-softmax-short": ("short", "short", [14], []),
    }
