"""The shipped question bank as a whole: loadable in one import, covering the syllabus, documented."""
from __future__ import annotations

from collections import Counter
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command

from quizbank.coverage import coverage
from quizbank.notebooks import find_notebooks, import_directory, read_notebook
from quizbank.selftest import selftest

ROOT = Path(__file__).resolve().parent.parent
BANK = ROOT / "bank"


@pytest.fixture(scope="module")
def specs():
    return [read_notebook(path) for path in find_notebooks(BANK)]


def test_every_template_slug_is_used_by_exactly_one_notebook(specs):
    repeated = {slug: n for slug, n in Counter(s.slug for s in specs).items() if n > 1}
    assert repeated == {}


def test_each_notebook_lives_under_the_folder_of_its_first_lecture():
    for path in find_notebooks(BANK):
        spec = read_notebook(path)
        assert path.parent.name == f"lecture-{min(spec.lectures):02d}" and path.stem == spec.slug, path


def test_every_quiz_range_and_exam_only_lecture_meets_its_quota(specs):
    unmet = [(row.name, row.counts, row.required) for row in coverage(specs) if not row.met]
    assert unmet == []


def test_every_manually_graded_explanation_has_point_valued_rubric_items_and_a_model_answer(specs):
    manual = [s for s in specs if s.kind == "short" and s.answer.get("format") == "manual"]
    assert len(manual) >= 13
    without = [s.slug for s in manual if not (isinstance(s.answer["rubric"], list) and s.model_answer.strip())]
    assert without == []
    for spec in manual:
        points = [item["points"] for item in spec.answer["rubric"]]
        assert sum(p for p in points if p > 0) >= 2, spec.slug  # more than one thing to get right


@pytest.mark.parametrize("path", find_notebooks(BANK), ids=lambda p: p.stem)
def test_every_notebook_passes_the_self_test_on_ten_seeds(path):
    # The full 200-seed run is `python manage.py selftest_templates bank --seeds 200` (docs/benchmarks.md).
    report = selftest(read_notebook(path), seeds=10)
    assert report.ok, [failure.describe() for failure in report.failures]


@pytest.mark.django_db
def test_the_whole_bank_imports_in_one_go(specs):
    report = import_directory(BANK, run_seed=None)
    assert report.errors == [] and len(report.imported) == len(specs)


def test_the_question_bank_table_is_up_to_date_with_the_notebooks():
    out = StringIO()
    call_command("describe_bank", "--bank", str(BANK), stdout=out)
    committed = (ROOT / "docs" / "question-bank.md").read_text()
    assert out.getvalue().strip() == committed.strip(), (
        "docs/question-bank.md is stale: run `python manage.py describe_bank --out docs/question-bank.md`")


def test_a_template_with_few_distinct_variants_says_why_in_its_notes(specs):
    # The bank's 200-seed run is recorded in docs/benchmarks.md; here a 40-seed sample catches the worst cases.
    low = [s.slug for s in specs if s.kind == "completion" and not s.notes.strip()
           and selftest(s, seeds=40, determinism_sample=0).distinct < 20]
    assert low == []
