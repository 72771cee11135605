"""docs/authoring.md describes the template spec the code has: every field, and every notebook cell tag."""
from __future__ import annotations

from dataclasses import fields
from pathlib import Path

from quizbank.notebooks import ALTERNATIVE_TAG, MISTAKE_TAG, PARTS
from quizbank.spec import TemplateSpec

GUIDE = (Path(__file__).resolve().parent.parent / "docs" / "authoring.md").read_text()
SPEC_TABLE = GUIDE.split("### The template spec, field by field", 1)[1].split("\n\n", 3)[2]


def test_the_spec_table_names_every_template_spec_field():
    missing = [f.name for f in fields(TemplateSpec) if f"`{f.name}`" not in SPEC_TABLE]
    assert missing == []


def test_the_parts_table_names_every_cell_tag_the_importer_reads():
    parts_table = GUIDE.split("## The parts", 1)[1].split("\n\n", 2)[1]
    missing = [tag for _, tag, _ in PARTS if f"| `{tag}`" not in parts_table]
    missing += [tag for tag in (MISTAKE_TAG, ALTERNATIVE_TAG) if f"| `{tag}` (any number)" not in parts_table]
    assert missing == []


def test_the_guide_says_every_generator_is_seeded_and_that_the_notebook_calls_qtype_type():
    assert "`random.seed(seed)`" in GUIDE and "`torch.manual_seed(seed)`" in GUIDE and "np.random.seed" in GUIDE
    assert "| `qtype` | metadata **`type`**" in SPEC_TABLE
