"""Fast, precise authoring tools: preview many seeds in one run, JSON errors under --json, a folder self-test
that reports every problem, and messages that name the cell, the line and the values."""
from __future__ import annotations

import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse

from quizbank.notebooks import write_notebook
from quizbank.selftest import selftest
from tests.specs import COMPLETION, CONV_MCQ, SOFTMAX_SHORT, edited
from tests.test_template_admin import form_data


def preview(*args) -> tuple[str, CommandError | None]:
    out = StringIO()
    try:
        call_command("preview_template", *args, stdout=out)
    except CommandError as error:
        return out.getvalue(), error
    return out.getvalue(), None


def test_preview_prints_a_range_of_seeds_in_one_run(tmp_path):
    write_notebook(SOFTMAX_SHORT, tmp_path / "s.ipynb")
    output, error = preview(str(tmp_path / "s.ipynb"), "--seeds", "0-3,9", "--json")
    assert error is None and [entry["seed"] for entry in json.loads(output)] == [0, 1, 2, 3, 9]


def test_preview_json_names_the_misconception_behind_each_option(tmp_path):
    write_notebook(CONV_MCQ, tmp_path / "c.ipynb")
    data = json.loads(preview(str(tmp_path / "c.ipynb"), "--seed", "2", "--json")[0])
    names = {o["misconception"] for o in data["option_details"] if not o["correct"]}
    assert names == {"ignores padding", "ignores stride", "uses the kernel size as the stride"}
    assert [o["text"] for o in data["option_details"] if o["correct"]] == [data["answer"]]


def test_a_broken_seed_under_json_is_a_json_error_with_part_and_line(tmp_path):
    write_notebook(edited(SOFTMAX_SHORT, solution="x = 1\nanswer = 1 / (seed - 2)\n"), tmp_path / "s.ipynb")
    output, error = preview(str(tmp_path / "s.ipynb"), "--seeds", "1-2", "--json")
    first, second = json.loads(output)
    assert "error" not in first and error is not None and error.returncode == 1
    (problem,) = second["error"]["problems"]
    assert (problem["part"], problem["line"]) == ("solution", 2) and "ZeroDivisionError" in problem["message"]


@pytest.mark.django_db
def test_an_unknown_template_under_json_is_a_json_error():
    output, error = preview("nope", "--json")
    assert error is not None and json.loads(output)["error"]["message"] == "no template with slug 'nope' " \
        "(import notebooks first, or pass a notebook path)"


def test_the_folder_self_test_reports_every_unreadable_and_broken_notebook_and_runs_the_rest(tmp_path):
    (tmp_path / "garbled.ipynb").write_text("{ not json")
    (tmp_path / "nometa.ipynb").write_text(json.dumps({"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}))
    write_notebook(edited(SOFTMAX_SHORT, solution="answer = 1 / (seed % 2)\n"), tmp_path / "broken.ipynb")
    write_notebook(CONV_MCQ, tmp_path / "good.ipynb")
    out = StringIO()
    with pytest.raises(CommandError):
        call_command("selftest_templates", str(tmp_path), "--seeds", "4", stdout=out)
    text = out.getvalue()
    assert "garbled.ipynb: unreadable" in text and "nometa.ipynb: unreadable" in text
    assert "test-softmax-short: 1 failure(s)" in text and "test-conv-mcq: ok" in text
    assert text.strip().splitlines()[-1].startswith("4 templates, 6 variants, 3 failures")


def test_the_non_determinism_report_names_the_variable_its_cell_and_both_values():
    spec = edited(SOFTMAX_SHORT, parameters="_t = __import__('time').time_ns()\nlogits = [_t % 997 / 100, 0.0, 1.0]\n")
    report = selftest(spec, seeds=2, determinism_sample=2)
    (failure,) = [f for f in report.failures if f.category == "nondeterministic"]
    assert "`logits` (set in the parameters cell) was [" in failure.message and "] then [" in failure.message


def test_a_reference_failing_its_own_test_names_the_reference_cell_not_your_code():
    spec = edited(COMPLETION, reference="y = x.clamp(min=0)\nreturn y.missing\n")
    (failure,) = selftest(spec, seeds=1, determinism_sample=0).failures
    assert "line 2 of the reference cell" in failure.message and "your code" not in failure.message


@pytest.mark.django_db
def test_bad_json_in_the_admin_answer_field_says_where(admin_client):
    response = admin_client.post(reverse("admin:quizbank_template_add"),
                                 form_data(SOFTMAX_SHORT, answer='{"format": "numeric",\n "rtol": 0.01,}'))
    (message,) = response.context["adminform"].form.errors["answer"]
    assert message.startswith("Not valid JSON: ") and "at line 2, column" in message
