"""The self-test finds weak questions, not only broken ones: warnings of their own category, shown by the CLI
and the admin, that never fail a template."""
from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command
from django.urls import reverse

from quizbank import services
from quizbank.notebooks import write_notebook
from quizbank.selftest import selftest
from tests.specs import CONV_MCQ, SOFTMAX_SHORT, edited

NOTED = "Few variants on purpose: the question is about the concept, not the numbers."
CONV_MCQ = edited(CONV_MCQ, stem="Which option is right?", explanation="")
ALWAYS_SMALLEST = edited(CONV_MCQ, slug="test-always-smallest", parameters="a = rng.randint(2, 90)\n",
                         solution="answer = a\n", notes=NOTED,
                         misconceptions="misconceptions = {'one more': a + 1, 'two more': a + 2, 'double': 2 * a + 5}\n")
LONGEST_IS_RIGHT = edited(CONV_MCQ, slug="test-longest-right", parameters="w = rng.choice(['w', 'v', 'u', 'z'])\n",
                          solution="answer = f'the gradient of the loss with respect to {w}'\n", notes=NOTED,
                          misconceptions="misconceptions = {'loss': 'the loss', 'w': w, 'lr': 'the step size'}\n")
ZERO_HALF_THE_TIME = edited(SOFTMAX_SHORT, solution="answer = 0.0 if seed % 2 else sum(logits) + 10\n")
CLOSE_OPTIONS = edited(CONV_MCQ, slug="test-close-options", parameters="a = rng.randint(10, 900)\n", notes=NOTED,
                       solution="answer = a / 7\n", answer={"option_format": ".3f"},
                       misconceptions="misconceptions = {'rounds early': round(a / 7, 3) + 0.001, 'half': a / 14,\n"
                                      "                  'double': a * 2 / 7}\n")
TWO_VARIANTS = edited(SOFTMAX_SHORT, parameters="logits = rng.choice([[0.5, 1.0, 2.0], [1.0, 0.0, -1.0]])\n")


def kinds(report) -> set[str]:
    return {warning.category for warning in report.warnings}


def test_the_correct_option_at_the_same_rank_in_most_seeds_is_a_warning_not_a_failure():
    report = selftest(ALWAYS_SMALLEST, seeds=10, determinism_sample=0)
    assert report.ok and kinds(report) == {"same-rank"}
    assert "the smallest of the 4 numeric options in 10 of 10 seeds" in report.warnings[0].message


def test_the_correct_option_always_the_longest_text_is_a_warning():
    report = selftest(LONGEST_IS_RIGHT, seeds=8, determinism_sample=0)
    assert report.ok and kinds(report) == {"longest-option"}


def test_one_short_answer_value_for_half_the_seeds_is_a_warning():
    report = selftest(ZERO_HALF_THE_TIME, seeds=10, determinism_sample=0)
    (warning,) = report.warnings
    assert warning.category == "common-answer" and "0.0 in 5 of 10 seeds" in warning.message
    assert warning.seeds == (1, 3, 5, 7, 9)


def test_options_within_display_precision_of_each_other_are_a_warning():
    report = selftest(CLOSE_OPTIONS, seeds=6, determinism_sample=0)
    assert "close-options" in kinds(report)


def test_few_distinct_variants_are_a_warning_unless_the_notes_say_why():
    assert "few-variants" in kinds(selftest(TWO_VARIANTS, seeds=10, determinism_sample=0))
    assert "few-variants" not in kinds(selftest(edited(TWO_VARIANTS, notes=NOTED), seeds=10, determinism_sample=0))


def test_code_calling_id_or_hash_is_one_warning_naming_every_line():
    spec = edited(SOFTMAX_SHORT, solution="_seen = {id(x) for x in logits}\n_h = hash('a')\n" + SOFTMAX_SHORT.solution)
    (warning,) = selftest(spec, seeds=2, determinism_sample=0).warnings
    assert warning.category == "id-or-hash" and warning.message.endswith("solution line 1, solution line 2")


def test_a_varied_short_answer_has_no_warnings():
    assert selftest(SOFTMAX_SHORT, seeds=10, determinism_sample=0).warnings == []


def test_the_command_prints_every_warning_with_the_totals_and_exits_zero(tmp_path):
    write_notebook(ALWAYS_SMALLEST, tmp_path / "a.ipynb")
    write_notebook(ZERO_HALF_THE_TIME, tmp_path / "b.ipynb")
    out = StringIO()
    call_command("selftest_templates", str(tmp_path), "--seeds", "10", stdout=out)
    lines = out.getvalue().strip().splitlines()
    assert any(line.startswith("    warning same-rank:") for line in lines)
    assert any(line.startswith("    warning common-answer:") for line in lines)
    assert lines[-2:] == ["warnings by kind: common-answer 1, same-rank 1", "2 templates, 20 variants, 0 failures, 2 warnings"]


@pytest.mark.django_db
def test_the_admin_self_test_page_shows_the_warnings(admin_client):
    template = services.save_spec(ZERO_HALF_THE_TIME)
    response = admin_client.get(reverse("admin:quizbank_template_selftest", args=[template.pk]) + "?seeds=6")
    html = response.content.decode()
    assert "all passed; 1 with weak-question warnings" in html and "common-answer: the answer is 0.0" in html
