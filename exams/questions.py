"""What a page shows in place of a question whose variant cannot be had (a template broken for this seed)."""
from __future__ import annotations

from typing import Any

UNAVAILABLE_TEXT = "This question could not be generated. Tell your instructor; it will be regraded."


def unavailable_question(qtype: str) -> dict[str, Any]:
    return {"kind": "unavailable", "qtype": qtype, "answer_format": "text", "title": "Question unavailable",
            "stem_md": UNAVAILABLE_TEXT, "stem_html": f"<p>{UNAVAILABLE_TEXT}</p>",
            "program": "", "program_html": "", "unavailable": True}
