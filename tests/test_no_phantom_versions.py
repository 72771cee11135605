"""No phantom versions: every text part has one form (LF, code ending in one newline), so opening a template
in the admin and clicking Save makes no version, and export -> import -> export gives the same bytes."""
from __future__ import annotations

import json

import pytest
from django.core.management import call_command
from django.urls import reverse

from quizbank import services
from quizbank.models import Template
from quizbank.notebooks import spec_to_notebook, write_notebook
from tests.specs import ALL_KINDS, COMPLETION, SOFTMAX_SHORT, edited
from tests.test_template_admin import form_data

WITH_MISTAKES = edited(COMPLETION, mistakes=({"name": "identity", "code": "return x\n", "max_score": 0.5},),
                       alternatives=("return x * (x > 0)\n",))


def as_a_browser_sends_it(spec) -> dict:
    """What a browser posts back for an unchanged form: CRLF line ends everywhere."""
    data = form_data(spec)
    return {name: value.replace("\n", "\r\n") if isinstance(value, str) else value for name, value in data.items()}


def test_crlf_and_a_missing_final_newline_give_the_same_spec_and_content_hash():
    messy = edited(SOFTMAX_SHORT, parameters=SOFTMAX_SHORT.parameters.replace("\n", "\r\n").rstrip("\r\n"),
                   stem=SOFTMAX_SHORT.stem.replace("\n", "\r\n"))
    assert messy == SOFTMAX_SHORT and messy.content_hash() == SOFTMAX_SHORT.content_hash()


@pytest.mark.django_db
def test_saving_an_unchanged_template_in_the_admin_makes_no_new_version(admin_client, settings):
    settings.QUIZBANK_CHECK_SEEDS = 4
    template = services.save_spec(SOFTMAX_SHORT)
    url = reverse("admin:quizbank_template_change", args=[template.pk])
    response = admin_client.post(url, as_a_browser_sends_it(SOFTMAX_SHORT), follow=True)
    assert response.status_code == 200
    template.refresh_from_db()
    assert template.versions.count() == 1 and template.parameters == SOFTMAX_SHORT.parameters
    assert "No change to the content: still version 1" in response.content.decode()


@pytest.mark.django_db
def test_a_template_edited_in_the_admin_exports_without_carriage_returns(admin_client, settings, tmp_path):
    settings.QUIZBANK_CHECK_SEEDS = 4
    admin_client.post(reverse("admin:quizbank_template_add"), as_a_browser_sends_it(SOFTMAX_SHORT))
    call_command("export_templates", str(tmp_path))
    text = next(tmp_path.rglob("*.ipynb")).read_text()
    assert "\\r" not in text and json.loads(text)["metadata"]["quizbank"]["slug"] == "test-softmax-short"


def test_exporting_twice_writes_the_same_bytes_with_stable_cell_ids(tmp_path):
    write_notebook(WITH_MISTAKES, tmp_path / "a.ipynb")
    write_notebook(WITH_MISTAKES, tmp_path / "b.ipynb")
    assert (tmp_path / "a.ipynb").read_bytes() == (tmp_path / "b.ipynb").read_bytes()
    ids = [cell["id"] for cell in spec_to_notebook(WITH_MISTAKES).cells]
    assert ids[:3] == ["about", "jupyter-setup", "parameters"] and ids[-2:] == ["mistake-1", "alternative-1"]


@pytest.mark.django_db
def test_export_import_export_is_byte_identical(tmp_path):
    for spec in [*ALL_KINDS, edited(WITH_MISTAKES, slug="test-relu-mistakes")]:
        write_notebook(spec, tmp_path / "source" / f"{spec.slug}.ipynb")
    call_command("import_templates", str(tmp_path / "source"), "--no-run")
    call_command("export_templates", str(tmp_path / "first"))
    Template.objects.all().delete()
    call_command("import_templates", str(tmp_path / "first"), "--no-run")
    call_command("export_templates", str(tmp_path / "second"))
    first = {p.relative_to(tmp_path / "first"): p.read_bytes() for p in (tmp_path / "first").rglob("*.ipynb")}
    second = {p.relative_to(tmp_path / "second"): p.read_bytes() for p in (tmp_path / "second").rglob("*.ipynb")}
    assert len(first) == len(ALL_KINDS) + 1 and first == second
