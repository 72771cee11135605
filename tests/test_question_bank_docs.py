"""docs/question-bank.md lists exactly the templates in bank/, with their coverage of the syllabus."""
from __future__ import annotations

from io import StringIO
from pathlib import Path

from django.core.management import call_command

ROOT = Path(__file__).resolve().parent.parent


def test_the_question_bank_table_is_up_to_date_with_the_notebooks():
    out = StringIO()
    call_command("describe_bank", "--bank", str(ROOT / "bank"), stdout=out)
    committed = (ROOT / "docs" / "question-bank.md").read_text()
    assert out.getvalue().strip() == committed.strip(), (
        "docs/question-bank.md is stale: run `python manage.py describe_bank --out docs/question-bank.md`")
