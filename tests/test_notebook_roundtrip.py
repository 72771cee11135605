"""Templates round-trip losslessly through Jupyter notebooks, and a broken notebook imports nothing."""
from __future__ import annotations

import json
from pathlib import Path

import nbformat
import pytest
from django.core.management import CommandError, call_command

from quizbank.engine import generate
from quizbank.models import Template
from quizbank.notebooks import (find_notebooks, import_directory, notebook_to_spec, read_notebook,
                                spec_to_notebook, write_notebook)
from tests.specs import ALL_KINDS, CONV_MCQ, SOFTMAX_SHORT

BANK = Path(__file__).resolve().parent.parent / "bank"


@pytest.mark.parametrize("spec", ALL_KINDS, ids=lambda s: s.slug)
def test_a_spec_survives_notebook_conversion_unchanged(spec, tmp_path):
    path = tmp_path / "t.ipynb"
    write_notebook(spec, path)
    assert read_notebook(path) == spec
    nbformat.validate(nbformat.read(str(path), as_version=4))


def test_every_bank_notebook_round_trips_byte_for_byte_through_a_spec():
    for path in find_notebooks(BANK):
        spec = read_notebook(path)
        assert notebook_to_spec(spec_to_notebook(spec)) == spec, path


@pytest.mark.django_db
def test_export_then_import_gives_identical_templates_and_identical_variants(tmp_path):
    for spec in ALL_KINDS:
        write_notebook(spec, tmp_path / "source" / f"{spec.slug}.ipynb")
    call_command("import_templates", str(tmp_path / "source"))
    before = {t.slug: t.current_version for t in Template.objects.select_related("current_version")}

    call_command("export_templates", str(tmp_path / "exported"))
    Template.objects.all().delete()
    call_command("import_templates", str(tmp_path / "exported"))

    after = {t.slug: t.current_version for t in Template.objects.select_related("current_version")}
    assert set(after) == set(before) == {s.slug for s in ALL_KINDS}
    for slug, version in after.items():
        assert version.content_hash == before[slug].content_hash
        for seed in (0, 7):
            old = generate(before[slug].to_spec(), seed)
            new = generate(version.to_spec(), seed)
            assert new.fingerprint() == old.fingerprint()


@pytest.mark.django_db
def test_reimporting_unchanged_notebooks_makes_no_new_versions(tmp_path):
    write_notebook(SOFTMAX_SHORT, tmp_path / "a.ipynb")
    first = import_directory(tmp_path)
    second = import_directory(tmp_path)
    assert first.imported == ["test-softmax-short"] and second.unchanged == ["test-softmax-short"]
    assert Template.objects.get().versions.count() == 1


@pytest.mark.django_db
def test_a_broken_notebook_is_named_with_its_problem_and_nothing_is_imported(tmp_path):
    write_notebook(SOFTMAX_SHORT, tmp_path / "good.ipynb")
    notebook = spec_to_notebook(CONV_MCQ)
    for cell in notebook.cells:
        if cell.metadata.get("tags") == ["solution"]:
            cell.source = "answer = 1 +\n"
    (tmp_path / "nested").mkdir()
    nbformat.write(notebook, str(tmp_path / "nested" / "bad.ipynb"))

    report = import_directory(tmp_path)
    assert not report.ok
    assert any("bad.ipynb" in line and "[solution, line 1]" in line for line in report.errors)
    assert not Template.objects.exists()


@pytest.mark.django_db
def test_a_notebook_whose_code_fails_at_run_time_is_refused_with_its_seed(tmp_path):
    notebook = spec_to_notebook(SOFTMAX_SHORT)
    for cell in notebook.cells:
        if cell.metadata.get("tags") == ["solution"]:
            cell.source = "answer = logits[7]\n"
    nbformat.write(notebook, str(tmp_path / "runtime.ipynb"))
    with pytest.raises(CommandError, match="nothing was imported"):
        call_command("import_templates", str(tmp_path))
    assert not Template.objects.exists()


@pytest.mark.parametrize("mutate, message", [
    (lambda nb: nb.metadata.pop("quizbank"), "no metadata.quizbank"),
    (lambda nb: nb.metadata["quizbank"].update(kind="essay"), "kind 'essay'"),
    (lambda nb: nb.metadata["quizbank"].update(lectures="eight"), "lectures must be a list"),
    (lambda nb: nb.cells.append(nbformat.v4.new_code_cell("x = 1", metadata={"tags": ["parameters"]})), "second cell"),
    (lambda nb: setattr(nb.cells[3], "cell_type", "code"), "must be a markdown cell"),
])
def test_malformed_notebooks_are_explained(mutate, message, tmp_path):
    notebook = spec_to_notebook(SOFTMAX_SHORT)
    mutate(notebook)
    path = tmp_path / "broken.ipynb"
    path.write_text(json.dumps(notebook))
    report_problems = None
    try:
        read_notebook(path)
    except Exception as error:  # noqa: BLE001 - the assertion below names what was expected
        report_problems = str(error)
    assert report_problems is not None and message in report_problems and "broken.ipynb" in report_problems


def test_a_file_that_is_not_json_is_reported_as_unreadable(tmp_path):
    path = tmp_path / "garbage.ipynb"
    path.write_text("{not json")
    with pytest.raises(Exception, match="not a readable notebook"):
        read_notebook(path)
