"""Mistakes as part of a template: a code-completion template lists typical wrong fragments with the highest
score each may earn, and other correct fragments; the self-test grades them all through the real grading."""
from __future__ import annotations

import pytest
from django.urls import reverse

from quizbank import services
from quizbank.notebooks import read_notebook, spec_to_notebook, write_notebook
from quizbank.selftest import selftest
from quizbank.spec import check_static
from tests.specs import COMPLETION, CONV_MCQ, edited

CAUGHT = {"name": "negates instead of clamping", "code": "return -x\n", "max_score": 0.5}
NOT_CAUGHT = {"name": "uses the built-in", "code": "return torch.relu(x)\n", "max_score": 0.0}
WELL_TESTED = edited(COMPLETION, mistakes=(CAUGHT,), alternatives=("return x * (x > 0)\n", "    return x.clamp(min=0)"))


def test_mistakes_and_alternatives_survive_the_notebook_round_trip(tmp_path):
    write_notebook(WELL_TESTED, tmp_path / "relu.ipynb")
    assert read_notebook(tmp_path / "relu.ipynb") == WELL_TESTED
    mistake_cell = spec_to_notebook(WELL_TESTED).cells[-3]
    assert mistake_cell.metadata == {"tags": ["mistake"], "quizbank": {"name": CAUGHT["name"], "max_score": 0.5}}


def test_a_template_whose_tests_catch_its_mistakes_and_accept_its_alternatives_passes():
    report = selftest(WELL_TESTED, seeds=3, determinism_sample=0)
    assert report.ok, [f.describe() for f in report.failures]


def test_a_mistake_that_scores_above_its_cap_fails_the_template():
    report = selftest(edited(COMPLETION, mistakes=(NOT_CAUGHT,)), seeds=3, determinism_sample=0)
    (failure,) = report.failures
    assert failure.category == "mistake" and failure.seeds == (0, 1, 2)
    assert "mistake 'uses the built-in' scores 1.00, above its max_score 0" in failure.message


def test_an_alternative_correct_solution_that_loses_marks_fails_the_template():
    report = selftest(edited(COMPLETION, alternatives=("return x.abs()\n",)), seeds=2, determinism_sample=0)
    (failure,) = report.failures
    assert failure.category == "alternative" and "alternative 1 is correct but the grading gives it" in failure.message


@pytest.mark.parametrize("mistake, message", [
    ({"code": "return x\n", "max_score": 0.5}, "mistake 1 needs a name"),
    ({"name": "m", "code": "return x\n", "max_score": 1.0}, "max_score must be a number from 0 to below 1"),
    ({"name": "m", "code": "", "max_score": 0.2}, "mistake 'm' has no code"),
    ({"name": "m", "code": "return (x\n", "max_score": 0.2}, "syntax error"),
])
def test_a_malformed_mistake_is_a_located_static_problem(mistake, message):
    problems = check_static(edited(COMPLETION, mistakes=(mistake,)))
    assert any(message in p.message for p in problems), [str(p) for p in problems]


def test_mistakes_belong_to_code_completion_templates_only():
    problems = check_static(edited(CONV_MCQ, mistakes=(CAUGHT,)))
    assert any("belong to code-completion templates" in p.message for p in problems)


@pytest.mark.django_db
def test_the_admin_preview_shows_each_listed_fragment_and_its_score(admin_client):
    template = services.save_spec(edited(WELL_TESTED, mistakes=(CAUGHT, NOT_CAUGHT)))
    response = admin_client.get(reverse("admin:quizbank_template_preview", args=[template.pk]) + "?seeds=0")
    (card,) = response.context["results"]
    assert [(f.label, f.ok) for f in card["fragments"]] == [
        ("the reference", True), ("alternative 1", True), ("alternative 2", True),
        ("mistake 'negates instead of clamping'", True), ("mistake 'uses the built-in'", False)]
    html = response.content.decode()
    assert "mistake &#x27;uses the built-in&#x27;" in html and "at most 0.50" in html


@pytest.mark.django_db
def test_the_admin_form_edits_the_status_the_mistakes_and_the_alternatives(admin_client):
    template = services.save_spec(WELL_TESTED)
    html = admin_client.get(reverse("admin:quizbank_template_change", args=[template.pk])).content.decode()
    assert 'name="status"' in html and 'name="mistakes"' in html and 'name="alternatives"' in html
    assert "negates instead of clamping" in html
