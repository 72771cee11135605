"""A template the bank retires (a near-duplicate, a weak question) is listed with its reason in
`bank/retired.json`: importing the bank stops drawing it in a database that had it, keeps its versions for the
attempts that used it, and the bank's documentation lists it."""
from __future__ import annotations

import json
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command

from quizbank.models import Template
from quizbank.notebooks import import_directory, write_notebook
from tests.specs import CONV_MCQ, SOFTMAX_SHORT

pytestmark = pytest.mark.django_db


def _bank(tmp_path: Path, *specs, retired: dict[str, str] | None = None) -> Path:
    for spec in specs:
        write_notebook(spec, tmp_path / f"{spec.slug}.ipynb")
    if retired is not None:
        (tmp_path / "retired.json").write_text(json.dumps(retired))
    return tmp_path


def test_importing_a_bank_that_retired_a_template_stops_drawing_it_and_keeps_its_versions(tmp_path):
    first = tmp_path / "first"
    first.mkdir()
    assert import_directory(_bank(first, CONV_MCQ, SOFTMAX_SHORT), run_seed=None).ok
    second = tmp_path / "second"
    second.mkdir()
    report = import_directory(_bank(second, SOFTMAX_SHORT, retired={CONV_MCQ.slug: "same question as another"}),
                              run_seed=None)
    assert report.ok and report.retired == [CONV_MCQ.slug]
    retired = Template.objects.get(slug=CONV_MCQ.slug)
    assert retired.is_active is False and retired.versions.count() == 1
    assert Template.objects.get(slug=SOFTMAX_SHORT.slug).is_active is True
    assert import_directory(second, run_seed=None).retired == []  # already inactive: nothing to report


def test_a_template_both_present_and_retired_is_refused_and_nothing_is_imported(tmp_path):
    report = import_directory(_bank(tmp_path, CONV_MCQ, retired={CONV_MCQ.slug: "oops"}), run_seed=None)
    assert not report.ok and "retired.json" in report.errors[0]
    assert not Template.objects.exists()


def test_the_bank_description_lists_each_retired_template_with_its_reason(tmp_path):
    out = StringIO()
    call_command("describe_bank", "--bank", str(_bank(tmp_path, SOFTMAX_SHORT, retired={"old-one": "a duplicate"})),
                 stdout=out)
    assert "## Retired templates" in out.getvalue() and "| `old-one` | a duplicate |" in out.getvalue()
